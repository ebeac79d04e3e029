"""Test helpers: answer checks shared by the end-to-end tests of every backend, evidence made from
made-up sentences for the answer core's table tests, and stopping a child server."""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path

from index.sentences import Sentence, split_sentences
from index.settings import IndexSettings
from qa.cite import split_claims, support
from qa.evidence import Evidence
from qa.nlp import parse
from qa.prompts import REFUSAL
from qa.retrieve import Group, Hit
from qa.types import Answer

MAX_CHARS = IndexSettings().max_sentence_chars  # the default the index splits with

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def made_up_evidence(texts: list[str]) -> list[Evidence]:
    """Evidence from made-up sentences, one article each, ranked in the order given."""
    out = []
    for rank, text in enumerate(texts):
        s = Sentence(f"a{rank}.txt", 1, 0, len(text), text)
        out.append(
            Evidence(Group([Hit(s, 1.0 - rank / 10, 0.8 - rank / 10)]), parse(text), rank, top_sim=0.8)
        )
    return out


def assert_valid_answer(answer: Answer, corpus: Path = SEEDS) -> None:
    """Every citation points at the exact sentence of its file, every claim carries a marker, every
    marker points at a citation, and the cited sentences support their claim. A refusal cites nothing."""
    if answer.refused:
        assert answer.citations == []
        assert answer.answer == REFUSAL
        return
    assert answer.citations, "an answer without a citation"
    for c in answer.citations:
        text = (corpus / c.file).read_text("utf-8")
        assert text[c.start : c.end] == c.quote
        by_n = {s.n: s for s in split_sentences(c.file, text, MAX_CHARS)}
        assert by_n[c.sentence].text == c.quote and c.id == f"{c.file}#{c.sentence}"
    claims = split_claims(answer.answer)
    assert claims
    for claim in claims:
        assert claim.markers, f"claim without a marker: {claim.text!r}"
        assert all(1 <= m <= len(answer.citations) for m in claim.markers)
        quotes = [answer.citations[m - 1].quote for m in claim.markers]
        body = claim.text.strip('“”" ')
        assert support(body, quotes).supported, f"{claim.text!r} not supported by {quotes!r}"


def mentions(answer: Answer, *alternatives: str) -> bool:
    """Does the answer text contain one of the alternatives, word-bounded and case-insensitive?"""
    return any(re.search(rf"(?<!\w){re.escape(a)}(?!\w)", answer.answer, re.IGNORECASE) for a in alternatives)


def assert_answers(answer: Answer, expected: tuple[str, ...], corpus: Path = SEEDS) -> None:
    """A valid, non-refused answer that names one of `expected` and cites a sentence holding it."""
    assert_valid_answer(answer, corpus)
    assert not answer.refused, answer.notes
    assert mentions(answer, *expected), answer.answer
    assert any(any(e.lower() in c.quote.lower() for e in expected) for c in answer.citations)


def assert_refused(answer: Answer, corpus: Path = SEEDS) -> None:
    """A refusal: the sentinel, no citations."""
    assert answer.refused, answer.answer
    assert_valid_answer(answer, corpus)


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM a child server and wait for it (SIGKILL after 20 s)."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
