"""Table tests of the decision's three outcomes (answer, quoted, refused) and of the answer the pipeline
composes for each, over real parses of made-up sentences; the weights and thresholds are set by each row,
so a row checks the decision rule, not a fitted value."""

from __future__ import annotations

import pytest

from qa.candidates import Proposal
from qa.compose import Meta, compose
from qa.decide import Ballot, decide
from qa.nlp import parse
from qa.question import Question, frame
from qa.score import scored, sentence_features
from qa.settings import AnswerSettings
from qa.spans import sentence_spans
from qa.verify import RuleVerifier
from qa.weights import Weights
from tests.helpers import made_up_evidence

SENTENCES = [
    "The harbour bridge was opened by Mayor Ada Brandt in 1998.",
    "The ferry company said traffic across the water fell sharply.",
]
KNOBS = AnswerSettings()


def _ballot(question: str, weights: Weights, model_refused: bool = False) -> tuple[Question, Ballot]:
    q = frame(parse(question))
    pool = made_up_evidence(SENTENCES)
    verifier = RuleVerifier(KNOBS.max_span_tokens, KNOBS.kind_mismatch)
    spans = [
        Proposal(ev.sentence.text[a:b], ev, a, b, label)
        for ev in pool
        for a, b, label in sentence_spans(ev.doc, q, KNOBS.max_span_tokens)
    ]
    cands = scored(q, [(p, verifier.verify(q, p)) for p in spans], weights, lambda k: 1.0)
    sentences = sorted(
        ((ev, weights.sentence_score(sentence_features(q, ev, lambda k: 1.0))) for ev in pool),
        key=lambda x: -x[1],
    )
    return q, Ballot(q, cands, sentences, weights, model_refused)


# `answer` and `threshold` bracket the logit of the row's best span: above both a short answer, between
# them the sentence quoted, below both a refusal.
@pytest.mark.parametrize(
    ("answer", "threshold", "refused_by_model", "outcome"),
    [
        (-50.0, -60.0, False, "answer"),
        (50.0, -60.0, False, "quoted"),
        (50.0, 40.0, False, "refused"),
        (-50.0, -60.0, True, "refused"),  # the model found nothing and nothing clears `clear`
    ],
)
def test_the_three_outcomes(answer: float, threshold: float, refused_by_model: bool, outcome: str) -> None:
    weights = Weights(answer=answer, threshold=threshold, clear=100.0)
    q, ballot = _ballot("Who opened the harbour bridge?", weights, refused_by_model)
    d = decide(ballot)
    assert d.outcome == outcome, d.reason
    composed = compose(q.text, d, [], Meta("m", "llamacpp"), KNOBS)
    assert composed.mode == {"answer": "extractive", "quoted": "quoted", "refused": "refused"}[outcome]
    if outcome == "answer":
        assert composed.short_answer == "Ada Brandt" and composed.citations[0].answer_start is not None
        assert 0.0 < (composed.confidence or 0.0) <= 1.0
    elif outcome == "quoted":
        assert composed.short_answer == "" and composed.answer.startswith("The closest the articles come:")
        assert composed.citations[0].quote == SENTENCES[0] and "[1]" in composed.answer
        assert "no span is clear enough" in composed.notes[0]
    else:
        assert composed.refused and composed.citations == [] and composed.notes[0]


def test_a_name_no_article_mentions_is_refused_whatever_the_score() -> None:
    q, ballot = _ballot("Who opened the harbour bridge in Lisbon?", Weights(answer=-50.0, threshold=-60.0))
    d = decide(ballot)
    assert d.outcome == "refused" and "Lisbon" in d.reason


@pytest.mark.parametrize(
    ("question", "outcome"),
    [
        # an open question (no entity label asked) is quoted down to `refuse`: the best sentence
        ("What happened to the traffic across the water?", "quoted"),
        # a question that asks for a name keeps `threshold`: a sentence that names no one is no answer
        ("Who opened the harbour bridge?", "refused"),
    ],
)
def test_below_the_threshold_an_open_question_is_quoted_a_labelled_one_refused(
    question: str, outcome: str
) -> None:
    weights = Weights(answer=100.0, threshold=50.0, refuse=-60.0, clear=100.0)
    q, ballot = _ballot(question, weights)
    d = decide(ballot)
    assert d.outcome == outcome, d.reason
    if outcome == "quoted":  # below the threshold the span is no guide: the best sentence is quoted
        assert d.best is None and d.quote is ballot.sentences[0][0]


def test_a_best_sentence_that_says_the_opposite_is_refused_and_says_how() -> None:
    q = frame(parse("Which harbour bridge was closed last year?"))
    pool = made_up_evidence(["The harbour bridge was opened last year."])
    weights = Weights(answer=-50.0, threshold=-60.0, refuse=-70.0)
    sentences = [(ev, weights.sentence_score(sentence_features(q, ev, lambda k: 1.0))) for ev in pool]
    d = decide(Ballot(q, [], sentences, weights))
    assert d.outcome == "refused"
    assert "opposite" in d.reason and "“opened” where the question says “closed”" in d.reason


def test_a_yes_no_question_is_not_refused_for_a_sentence_that_says_no() -> None:
    q = frame(parse("Was the harbour bridge closed last year?"))
    pool = made_up_evidence(["The harbour bridge was opened last year."])
    weights = Weights(answer=-50.0, threshold=-60.0, refuse=-70.0)
    sentences = [(ev, weights.sentence_score(sentence_features(q, ev, lambda k: 1.0))) for ev in pool]
    d = decide(Ballot(q, [], sentences, weights))
    assert "opposite" not in d.reason and d.outcome != "refused", d.reason


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("What did Hatmanis prove in 1965?", []),  # one letter from "Hartmanis": mentioned
        ("What did Edmond write?", []),  # "Edmonds"
        ("What did Hartmann prove?", ["Hartmann"]),  # two edits away: another name
        ("What happened in Austria?", ["Austria"]),  # "Australia" is two letters away
        ("What happened in Paris?", ["Paris"]),  # short words must match: "parish" is another word
    ],
)
def test_a_name_one_typo_from_the_articles_counts_as_mentioned(question: str, missing: list[str]) -> None:
    from dataclasses import replace

    from qa.decide import unmentioned

    text = "In 1965 Hartmanis and Edmonds wrote papers in Australia; the parish hall hosted them."
    ev = replace(made_up_evidence([text])[0], file_text=text.lower())
    assert unmentioned(frame(parse(question)), [ev]) == missing
