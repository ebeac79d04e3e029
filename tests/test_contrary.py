"""Table tests of qa/contrary.py: a sentence that says the opposite of the question (a WordNet antonym of
one of its words, another number for the noun it counts) answers nothing, whatever it names; and of the
WordNet antonyms it reads (qa.lexicon.opposites). Made-up sentences; expected values written by hand."""

from __future__ import annotations

import pytest

from qa.contrary import contrary
from qa.lexicon import opposites
from qa.nlp import parse
from qa.question import frame


@pytest.mark.parametrize(
    ("lemma", "tag", "expected"),
    [
        ("decrease", "NOUN", {"increase"}),
        ("decrease", "VERB", {"increase"}),
        ("small", "ADJ", {"large"}),
        ("informal", "ADJ", {"formal"}),
        ("indirectly", "ADV", {"directly"}),
        ("unknown", "ADJ", {"known"}),
        # only the word's own first sense: "lie" is first "be located", opposed to nothing ("recline", a
        # rarer sense, is opposed to "stand" and "sit")
        ("lie", "VERB", set()),
        # words WordNet gives no antonym, and tags it has none for
        ("harbour", "NOUN", set()),
        ("small", "PROPN", set()),
        ("", "ADJ", set()),
    ],
)
def test_opposites(lemma: str, tag: str, expected: set[str]) -> None:
    assert opposites(lemma, tag) == expected


@pytest.mark.parametrize(
    ("question", "sentence", "opposed"),
    [
        # an antonym of a question word, and the word itself nowhere in the sentence
        (
            "Which town saw a decrease in visitors?",
            "Harwick saw an increase in visitors last summer.",
            "“increase” where the question says “decrease”",
        ),
        (
            "What is the smallest lake in the region?",
            "Lake Orla is the largest lake in the region.",
            "“largest” where the question says “smallest”",
        ),
        (
            "How can the files be shared indirectly?",
            "The files can be shared directly over the local network.",
            "“directly” where the question says “indirectly”",
        ),
        # another number for the noun the question counts, and never the question's number
        (
            "What do the three partners own?",
            "The two partners own a bakery in the old town.",
            "“two partners” where the question says 3",
        ),
        # the word is there too: the sentence says both, so nothing is contradicted
        (
            "Which town saw a decrease in visitors?",
            "After an increase, Harwick saw a decrease in visitors.",
            "",
        ),
        # the question's number is there, beside another
        ("What do the three partners own?", "Of the three partners, two partners own a bakery.", ""),
        # a question that asks about both poles, and an antonym negated, contradict nothing
        ("Is the new school public or private?", "The new school is private, the council said.", ""),
        ("What follows if the two sums are unequal?", "If the two sums are not equal, the audit fails.", ""),
        # no antonym, no number: a paraphrase is no contradiction
        ("Which town saw fewer visitors?", "Harwick had a drop in visitors last summer.", ""),
        ("Who opened the harbour bridge?", "The harbour bridge was opened by Mayor Ada Brandt in 1998.", ""),
    ],
)
def test_contrary(question: str, sentence: str, opposed: str) -> None:
    why = contrary(frame(parse(question)).contrasts, parse(sentence))
    if opposed:
        assert opposed in why
    else:
        assert why == ""


@pytest.mark.parametrize(
    ("question", "sentence", "opposed"),
    [
        ("Which town saw a decrease in visitors?", "Harwick saw an increase in visitors.", "“increase”"),
        ("Who was hurt in the storm?", "Nobody was hurt in the storm.", "polarity"),
        # a yes/no question is answered "no" by either: no contradiction
        ("Did Harwick see a decrease in visitors?", "Harwick saw an increase in visitors.", ""),
        ("Was anyone hurt in the storm?", "Nobody was hurt in the storm.", ""),
    ],
)
def test_the_one_check_verification_and_the_decision_share(
    question: str, sentence: str, opposed: str
) -> None:
    from qa.verify import opposite

    why = opposite(frame(parse(question)), parse(sentence))
    assert opposed in why if opposed else why == ""
