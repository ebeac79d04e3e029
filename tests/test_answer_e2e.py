"""End to end with the real packaged model (SmolLM2-135M through llama.cpp) over the seed index."""

from __future__ import annotations

import pytest

from qa.answer import Pipeline
from tests.helpers import assert_answers, assert_refused, assert_valid_answer

ANSWERABLE = [
    ("Who confirmed that Imam Sahib district was in Taliban hands?", ("Mujahed", "Mujahid")),
    ("How many Taliban fighters did the police say they killed?", ("50",)),
    ("Who is the provincial police spokesman?", ("Rahmani",)),
    ("Which country is trying to take control of Kabul airport?", ("Turkey",)),
    ("How many US troops remain in Afghanistan?", ("2,500", "3,500")),
    ("In which country are the government and the Taliban holding talks?", ("Qatar",)),
    ("How close to Kunduz city did the Taliban get?", ("kilometer", "kilometre")),
    ("Who ordered Taliban soldiers to treat those who surrender well?", ("Akhunzada", "Hibatullah")),
]
UNANSWERABLE = [
    "Who is the president of France?",
    "What is the population of Kunduz?",
    "What was the weather like in Kunduz that day?",
]


@pytest.mark.slow
@pytest.mark.parametrize(("question", "expected"), ANSWERABLE)
def test_answers_cite_sentences_that_hold_the_fact(
    pipeline: Pipeline, question: str, expected: tuple[str, ...]
) -> None:
    assert_answers(pipeline.ask(question), expected)


@pytest.mark.slow
@pytest.mark.parametrize("question", UNANSWERABLE)
def test_unanswerable_questions_are_refused(pipeline: Pipeline, question: str) -> None:
    assert_refused(pipeline.ask(question))


@pytest.mark.slow
def test_disagreeing_figure_is_reported_with_both_citations(pipeline: Pipeline) -> None:
    answer = pipeline.ask("How far from Kunduz were the Taliban fighters?")
    assert_valid_answer(answer)
    assert "disagree" in answer.answer
    figures = {c.file for c in answer.citations}
    assert len(figures) >= 2


@pytest.mark.slow
def test_timings_cover_every_stage(pipeline: Pipeline) -> None:
    answer = pipeline.ask("Who is the provincial police spokesman?")
    for stage in ("retrieve_ms", "prefill_ms", "decode_ms", "verify_ms", "total_ms"):
        assert answer.timings[stage] >= 0
    assert answer.timings["total_ms"] >= answer.timings["retrieve_ms"]
