"""How the model's reply is read (issue 24, "a strong model's correct answers are kept"): table tests of
the verifier for a reader's phrase against a rule's span, of the decision that lets the model's verified
phrase lead, of why a claim was not kept, and of a cause that no place stands for. Made-up sentences,
real parses; expected values written by hand."""

from __future__ import annotations

import pytest

from qa.candidates import Proposal
from qa.decide import Ballot, Decision, decide
from qa.nlp import parse
from qa.propose import ModelProposer, SpanProposer, label_of
from qa.question import frame
from qa.score import scored, sentence_features
from qa.settings import AnswerSettings
from qa.verify import RuleVerifier
from qa.weights import Weights
from tests.helpers import made_up_evidence

KNOBS = AnswerSettings()
VERIFIER = RuleVerifier(KNOBS.max_span_tokens, KNOBS.kind_mismatch)


def _proposal(sentence: str, phrase: str, source: str) -> Proposal:
    ev = made_up_evidence([sentence])[0]
    start = sentence.index(phrase)
    end = start + len(phrase)
    return Proposal(phrase, ev, start, end, label_of(ev.doc, start, end), source)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("question", "sentence", "phrase", "rule", "reader"),
    [
        # the parse hangs the subject on the first verb only: a guess that may drop a rule's span, not
        # the model's phrase
        (
            "What caused the fire?",
            "A faulty heater set the barn alight and caused a fire that burned for hours.",
            "A faulty heater",
            "another verb",
            "",
        ),
        # a noun phrase is a weak answer to "why": scored for the model, dropped for the rules
        (
            "Why was the road closed?",
            "The road was closed because of a landslide.",
            "a landslide",
            "cannot answer",
            "",
        ),
        # made of the question's words, but not a copy of them
        (
            "What term is used for programs that learn from data?",
            "Programs that learn from data are called learning programs.",
            "learning programs",
            "repeats the question",
            "",
        ),
        # a copy of the question's words answers nothing, from anyone
        (
            "Was the bridge made of steel or of stone?",
            "The bridge was made of stone quarried nearby.",
            "stone",
            "repeats the question",
            "repeats the question",
        ),
        # a kind that cannot answer: a sum of money is nobody
        (
            "Who paid for the new roof?",
            "The new roof cost 2 million euros.",
            "2 million euros",
            "cannot",
            "cannot",
        ),
        # a place is never the one a person noun asks for ("which spokesman"); "who" may be a country
        (
            "Which spokesman confirmed the fall of the town?",
            "A spokesman in Norway confirmed the fall of the town.",
            "Norway",
            "cannot answer",
            "cannot answer",
        ),
        ("Who confirmed the fall of the town?", "Norway confirmed the fall of the town.", "Norway", "", ""),
        # "which X": an X described is not an X named; "what kind of X": it is
        (
            "Which district did the rebels take?",
            "The rebels took a key district on Monday.",
            "a key district",
            "without naming",
            "without naming",
        ),
        (
            "What kind of engine powers the boat?",
            "A diesel engine powers the boat.",
            "A diesel engine",
            "",
            "",
        ),
        # a noun before the asked noun names one
        (
            "Which theorem did the lecture prove?",
            "The lecture proved the squeeze theorem.",
            "the squeeze theorem",
            "",
            "",
        ),
        # the opposite polarity: no one's answer to "who" (but see the yes/no test below)
        (
            "Who was hurt by the storm?",
            "Nobody was hurt by the storm, the mayor said.",
            "the mayor",
            "another verb",
            "polarity",
        ),
        # a phrase with no content word says nothing
        (
            "What did the mayor promise?",
            "The mayor promised some of the money.",
            "some of the",
            "says nothing",
            "says nothing",
        ),
        # the sentence says the opposite of the question
        (
            "Which town saw a decrease in visitors?",
            "Harwick saw an increase in visitors last summer.",
            "Harwick",
            "where the question says",
            "where the question says",
        ),
    ],
)
def test_a_readers_phrase_against_a_rules_span(
    question: str, sentence: str, phrase: str, rule: str, reader: str
) -> None:
    q = frame(parse(question))
    for source, why in (("extractive", rule), ("model", reader)):
        verdict = VERIFIER.verify(q, _proposal(sentence, phrase, source))
        assert verdict.kept is (why == ""), (source, verdict)
        assert why in verdict.reason, (source, verdict)


def test_the_models_verified_phrase_leads_where_the_rules_answer_otherwise() -> None:
    """The rules drop "A faulty heater" (the parse hangs it on "set") and answer otherwise or not at all;
    the model read it, and its phrase, verified, is the answer whatever the rules' spans score."""
    weights = Weights(answer=-50.0, threshold=-60.0)
    q = frame(parse("What caused the fire?"))
    pool = made_up_evidence(["A faulty heater set the barn alight and caused a fire that burned for hours."])
    ev = pool[0]
    rules = SpanProposer(KNOBS.max_span_tokens).propose(q, pool)
    sentences = [(ev, weights.sentence_score(sentence_features(q, ev, lambda k: 1.0)))]

    def decided(proposals: list[Proposal]) -> Decision:
        cands = scored(q, [(p, VERIFIER.verify(q, p)) for p in proposals], weights, lambda k: 1.0)
        return decide(Ballot(q, cands, sentences, weights, False, KNOBS.model_sentence_margin))

    alone = decided(rules)
    assert alone.best is None or alone.best.text != "A faulty heater"
    i = ev.sentence.text.index("A faulty heater")
    heater = Proposal("A faulty heater", ev, i, i + 15, "NP", "model")
    with_model = decided([*rules, heater])
    assert with_model.outcome == "answer" and with_model.best is not None
    assert with_model.best.text == "A faulty heater" and with_model.best.source == "model"


@pytest.mark.parametrize(
    ("reply", "note"),
    [
        ("2 million euros [1].", "cannot answer a person question"),
        ("Lisbon [1].", "not kept: the evidence does not state it"),
    ],
)
def test_a_claim_not_kept_says_why(reply: str, note: str) -> None:
    q = frame(parse("Who paid for the new roof?"))
    pool = made_up_evidence(["The new roof cost 2 million euros, paid for by the parish council."])
    reader = ModelProposer(
        SpanProposer(KNOBS.max_span_tokens), VERIFIER, KNOBS.short_reply_words, KNOBS.min_claim_coverage
    )
    reading = reader.propose(q, reply, pool, pool)
    assert not reading.proposals and any(note in n for n in reading.notes), reading.notes


def test_names_the_model_lists_become_the_one_span_that_lists_them() -> None:
    """ "X and Y and Z" for "X, Y and Z": one span, also where the sentence's spans overlap ("Y and Z"
    is a span of its own beside "Y" and "Z")."""
    q = frame(parse("In which three towns did the storm cut the power?"))
    pool = made_up_evidence(["The storm cut the power in the towns of Arlen, Bexley and Corran on Monday."])
    reader = ModelProposer(
        SpanProposer(KNOBS.max_span_tokens), VERIFIER, KNOBS.short_reply_words, KNOBS.min_claim_coverage
    )
    reading = reader.propose(q, "Arlen and Bexley and Corran [1].", pool, pool)
    assert [p.text for p in reading.proposals] == ["Arlen, Bexley and Corran"], reading


def test_a_yes_no_question_is_answered_by_a_sentence_of_the_opposite_polarity() -> None:
    """ "Was the bridge damaged?" — "… was not damaged" says no: its clauses are kept, not dropped for their
    polarity (a "who" question's are: nobody is no one's answer)."""
    q = frame(parse("Was the new bridge damaged by the storm?"))
    ev = made_up_evidence(["The new bridge was closed as a precaution but was not damaged, engineers said."])[
        0
    ]
    kept = [
        p.text for p in SpanProposer(KNOBS.max_span_tokens).propose(q, [ev]) if VERIFIER.verify(q, p).kept
    ]
    assert any("not damaged" in t for t in kept), kept
