"""The answer pipeline and raw model outputs, with a recording fake LLM over the real seed index.

The fake returns canned text (a table of what small models really do) and records the prompt, so these
tests pin down verification behaviour exactly and check what the model was shown.
"""

from __future__ import annotations

import re

import pytest

from qa import prompts
from qa.pipeline import Pipeline
from qa.settings import Settings
from tests.conftest import RecordingLLM
from tests.helpers import SEEDS, assert_valid_answer


@pytest.fixture(scope="module")
def fake(seed_settings: Settings) -> tuple[Pipeline, RecordingLLM]:
    llm = RecordingLLM()
    return Pipeline(seed_settings, llm=llm), llm


def _evidence_number(user: str, needle: str) -> int:
    for line in user.splitlines():
        m = re.match(r"\[(\d+)\] (.*)", line)
        if m and needle in m.group(2):
            return int(m.group(1))
    raise AssertionError(f"{needle!r} not in the evidence shown:\n{user}")


Q = "Who confirmed that Imam Sahib district was in Taliban hands?"


def test_prompt_delimits_evidence_and_ends_with_the_question(fake: tuple[Pipeline, RecordingLLM]) -> None:
    pipeline, llm = fake
    llm.reply = "Zabihullah Mujahed confirmed it."
    pipeline.ask(Q)
    system, user = llm.prompts[-1]
    assert system == prompts.SYSTEM
    assert user.startswith("<evidence>\n[1] ") and user.endswith(f"Question: {Q}\nAnswer:")
    assert "Mujahed" in user


def test_terse_answer_with_the_right_marker_is_kept_and_cites_every_article_that_states_it(
    fake: tuple[Pipeline, RecordingLLM],
) -> None:
    pipeline, llm = fake
    llm.reply = "Zabihullah Mujahed confirmed it."
    pipeline.ask(Q)
    n = _evidence_number(llm.prompts[-1][1], "Zabihullah Mujahed confirmed")
    llm.reply = f"Zabihullah Mujahed [{n}]."
    answer = pipeline.ask(Q)
    assert_valid_answer(answer)
    assert answer.mode == "generated"
    assert answer.short_answer == "Zabihullah Mujahed"
    assert answer.answer.startswith("Zabihullah Mujahed [1]")
    assert len({c.file for c in answer.citations}) >= 4  # near-identical sentences of several articles
    for c in answer.citations:
        text = (SEEDS / c.file).read_text("utf-8")
        assert c.answer_start is not None and c.answer_end is not None
        assert c.start <= c.answer_start < c.answer_end <= c.end
        assert text[c.answer_start : c.answer_end] == "Zabihullah Mujahed"


@pytest.mark.parametrize(
    ("reply", "mode"),
    [
        # a wrong marker: the phrase is found in the sentence that states it and the citation repaired
        ("Zabihullah Mujahed [5].", "generated"),
        # a hallucinated id
        ("Zabihullah Mujahed [9].", "generated"),
        # no marker at all
        ("Zabihullah Mujahed", "generated"),
        # prompt scaffolding echoed around the answer
        ("<evidence>\nAnswer: Zabihullah Mujahed [1]", "generated"),
        # a whole sentence that the evidence states: its phrase of the answer's type is the answer
        (
            "Taliban spokesman Zabihullah Mujahed confirmed the district was in Taliban hands [1].",
            "generated",
        ),
        # a name that is in no evidence sentence: dropped, the extractive answer stands
        ("John Smith [1].", "extractive"),
        # someone the evidence names, but not as the one who confirmed: the parse keeps the answer
        ("Inamuddin Rahmani confirmed it [1].", "extractive"),
        # the model refuses although a sentence clearly answers: the evidence is quoted
        (prompts.REFUSAL, "extractive"),
        # empty output
        ("", "extractive"),
    ],
)
def test_raw_model_outputs_become_verified_answers(
    fake: tuple[Pipeline, RecordingLLM], reply: str, mode: str
) -> None:
    pipeline, llm = fake
    llm.reply = reply
    answer = pipeline.ask(Q)
    assert_valid_answer(answer)
    assert answer.mode == mode, answer.notes
    assert answer.short_answer == "Zabihullah Mujahed", answer.answer
    for bad in ("John Smith", "Rahmani", "<evidence>", "Answer:"):
        assert bad not in answer.answer


def test_refusal_has_no_citations(fake: tuple[Pipeline, RecordingLLM]) -> None:
    pipeline, llm = fake
    llm.reply = "Argentina [1]."
    answer = pipeline.ask("Who won the 2022 football World Cup in Qatar?")
    assert answer.refused and answer.citations == [] and answer.answer == prompts.REFUSAL
    assert answer.notes and answer.notes[0]


def test_the_model_is_not_asked_when_refine_is_never(seed_settings: Settings) -> None:
    llm = RecordingLLM()
    pipeline = Pipeline(seed_settings.replaced(refine="never"), llm=llm)
    answer = pipeline.ask(Q)
    assert llm.prompts == []
    assert answer.mode == "extractive" and "Mujahed" in answer.short_answer


def test_the_embedded_model_is_not_asked_by_default(seed_settings: Settings) -> None:
    llm = RecordingLLM()
    llm.backend = "llamacpp"
    answer = Pipeline(seed_settings, llm=llm).ask(Q)
    assert llm.prompts == [] and answer.mode == "extractive"


def test_the_verified_extractive_answer_is_streamed_before_the_model_runs(seed_settings: Settings) -> None:
    llm = RecordingLLM()
    llm.reply = "John Smith [1]."  # a proposal the verifier drops: the draft stands
    events = list(Pipeline(seed_settings.replaced(refine="always"), llm=llm).stream(Q))
    kinds = [e.type for e in events]
    assert kinds.index("draft") < kinds.index("token") < kinds.index("done")
    draft, final = events[kinds.index("draft")].data["answer"], events[-1].data["answer"]
    assert_valid_answer(draft)
    assert "Mujahed" in draft.short_answer and draft.citations
    assert final.short_answer == draft.short_answer and "John Smith" not in final.answer


def test_weak_runs_the_model_only_when_the_extractive_answer_is_not_clear(seed_settings: Settings) -> None:
    llm = RecordingLLM()
    pipeline = Pipeline(seed_settings.replaced(refine="weak"), llm=llm)
    clear = list(pipeline.stream(Q))
    assert llm.prompts == [] and "draft" not in [e.type for e in clear]
    llm.reply = prompts.REFUSAL
    unclear = pipeline.ask("Who won the 2022 football World Cup in Qatar?")
    assert unclear.refused
    assert len(llm.prompts) == 1  # refused by the evidence alone: the model was asked


def test_refine_is_read_by_name_and_from_both_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(refine="never").answer.refine == "never"
    monkeypatch.setenv("QA_MODEL_ANSWERS", "weak")
    assert Settings().answer.refine == "weak"
    monkeypatch.setenv("QA_REFINE", "always")
    assert Settings().answer.refine == "always"
