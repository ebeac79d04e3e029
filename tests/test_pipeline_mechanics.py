"""The pipeline's handling of raw model outputs, with a recording fake LLM over the real seed index.

The fake returns canned text (a table of what small models really do) and records the prompt, so these
tests pin down verification behaviour exactly and check what the model was shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from index.settings import Settings
from qa import prompts
from qa.answer import Pipeline
from tests.helpers import assert_valid_answer


class RecordingLLM:
    """Streams a canned reply in small chunks (splitting markers) and records every prompt."""

    backend = "fake"
    name = "recording"
    n_ctx = 2048

    def __init__(self) -> None:
        self.reply = ""
        self.prompts: list[tuple[str, str]] = []
        self.stats: dict[str, float] = {}

    def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 1

    def stream(self, system: str, user: str, max_tokens: int) -> Iterator[str]:
        self.prompts.append((system, user))
        for i in range(0, len(self.reply), 3):
            yield self.reply[i : i + 3]
        self.stats = {"prefill_ms": 1.0, "decode_ms": 1.0}


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


def test_correct_marker_is_kept_and_points_at_every_article_that_carries_it(
    fake: tuple[Pipeline, RecordingLLM],
) -> None:
    pipeline, llm = fake
    llm.reply = "Zabihullah Mujahed confirmed it."
    pipeline.ask(Q)
    n = _evidence_number(llm.prompts[-1][1], "Zabihullah Mujahed confirmed")
    llm.reply = (
        f"Taliban spokesman Zabihullah Mujahed confirmed Imam Sahib district was in Taliban hands [{n}]."
    )
    answer = pipeline.ask(Q)
    assert_valid_answer(answer)
    assert answer.mode == "generated"
    assert len({c.file for c in answer.citations}) >= 4  # near-identical sentences of several articles


@pytest.mark.parametrize(
    ("reply", "mode"),
    [
        # hallucinated id: dropped, then aligned to the sentence that supports the claim
        (
            "Taliban spokesman Zabihullah Mujahed confirmed Imam Sahib district was in Taliban hands [9].",
            "aligned",
        ),
        # no marker at all: aligned
        (
            "Taliban spokesman Zabihullah Mujahed confirmed Imam Sahib district was in Taliban hands.",
            "aligned",
        ),
        # a wrong name: unsupported everywhere, so the best evidence sentence is quoted instead
        (
            "Taliban spokesman John Smith confirmed Imam Sahib district was in Taliban hands [1].",
            "extractive",
        ),
        # the model refuses although the evidence answers: the evidence is quoted
        (prompts.REFUSAL, "extractive"),
        # empty output
        ("", "extractive"),
        # a bare name is no statement
        ("Mujahed [1]", "extractive"),
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
    assert "Mujahed" in answer.answer
    assert "John Smith" not in answer.answer


def test_refusal_has_no_citations_and_skips_the_model(fake: tuple[Pipeline, RecordingLLM]) -> None:
    pipeline, llm = fake
    before = len(llm.prompts)
    answer = pipeline.ask("Who won the 2022 football World Cup in Qatar?")
    assert answer.refused and answer.citations == [] and answer.answer == prompts.REFUSAL
    assert len(llm.prompts) == before
