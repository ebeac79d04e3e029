"""End to end over the seed index: the default (the embedded model loaded, `QA_REFINE=auto`, so the
extractive proposer answers alone) and `QA_REFINE=always` (the real packaged SmolLM2-135M through
llama.cpp proposes, and the verifier judges its proposal beside the extractive ones)."""

from __future__ import annotations

import pytest

from qa.pipeline import Pipeline
from qa.settings import Settings
from tests.helpers import SEEDS, assert_answers, assert_refused, assert_valid_answer

ANSWERABLE = [
    ("Who confirmed that Imam Sahib district was in Taliban hands?", ("Mujahed", "Mujahid")),
    ("How many Taliban fighters did the police say they killed?", ("50",)),
    ("Who is the provincial police spokesman?", ("Rahmani",)),
    ("How many US troops remain in Afghanistan?", ("2,500", "3,500")),
    ("In which country are the government and the Taliban holding talks?", ("Qatar",)),
    ("How close to Kunduz city did the Taliban get?", ("kilometer", "kilometre")),
    ("Who ordered Taliban soldiers to treat those who surrender well?", ("Akhunzada", "Hibatullah")),
    # The sentence that states it says "is attempting to" for "trying to" (a WordNet synonym), and a
    # country every article names is in the question's neighbourhood too.
    ("Which country is trying to take control of Kabul airport?", ("Turkey",)),
]
# Questions about people, places and things no article mentions.
UNANSWERABLE = [
    "Who is the president of France?",
    "Who won the 2022 football World Cup in Qatar?",
    "What is the population of Kunduz?",  # the asked attribute is in no article
]
# What the span core does not refuse yet: the asked attribute is in no article, but the question's
# other words are everywhere and it names no attribute noun (README "Evaluation", issue notes).
UNANSWERABLE_MISSED = [
    "What was the weather like in Kunduz that day?",
]


@pytest.fixture(scope="module")
def with_model(seed_settings: Settings) -> Pipeline:
    return Pipeline(seed_settings.replaced(refine="always"))


@pytest.mark.slow
@pytest.mark.parametrize(("question", "expected"), ANSWERABLE)
def test_answers_cite_sentences_that_hold_the_fact(
    pipeline: Pipeline, question: str, expected: tuple[str, ...]
) -> None:
    answer = pipeline.ask(question)
    assert_answers(answer, expected)
    if answer.mode == "quoted":  # no span clear enough: the sentence that holds the fact, quoted, no phrase
        assert answer.short_answer == "" and all(c.answer_start is None for c in answer.citations)
        return
    for c in answer.citations[:1]:
        text = (SEEDS / c.file).read_text("utf-8")
        assert c.answer_start is not None and c.answer_end is not None
        assert text[c.answer_start : c.answer_end] == answer.short_answer


@pytest.mark.slow
def test_the_embedded_default_answers_without_a_model_call(pipeline: Pipeline) -> None:
    answer = pipeline.ask(ANSWERABLE[0][0])
    assert answer.mode == "extractive" and "prefill_ms" not in answer.timings
    assert not any(n.startswith("model output:") for n in answer.notes)


@pytest.mark.slow
@pytest.mark.parametrize(("question", "expected"), ANSWERABLE)
def test_with_the_real_model_proposing_answers_stay_cited_and_right(
    with_model: Pipeline, question: str, expected: tuple[str, ...]
) -> None:
    answer = with_model.ask(question)
    assert_answers(answer, expected)
    assert answer.timings["decode_ms"] > 0  # the model ran
    assert any(n.startswith("model output:") for n in answer.notes)


@pytest.mark.slow
@pytest.mark.parametrize("question", UNANSWERABLE)
def test_unanswerable_questions_are_refused(pipeline: Pipeline, question: str) -> None:
    answer = pipeline.ask(question)
    assert_refused(answer)
    assert "never mention" in answer.notes[0]


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="known miss: the asked attribute is in no article")
@pytest.mark.parametrize("question", UNANSWERABLE_MISSED)
def test_questions_about_an_attribute_no_article_has_are_refused(pipeline: Pipeline, question: str) -> None:
    assert pipeline.ask(question).refused


@pytest.mark.slow
def test_timings_cover_every_stage(with_model: Pipeline) -> None:
    answer = with_model.ask("Who is the provincial police spokesman?")
    assert_valid_answer(answer)
    for stage in ("retrieve_ms", "nlp_ms", "prefill_ms", "decode_ms", "verify_ms", "total_ms"):
        assert answer.timings[stage] > 0, stage
    assert answer.timings["total_ms"] >= answer.timings["retrieve_ms"] + answer.timings["decode_ms"]
