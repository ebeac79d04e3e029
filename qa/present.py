"""Presenting a verified Answer as text: footnotes and marker groups. Pure functions.

Used by the OpenAI-compatible endpoint (content with footnotes) and by the chat UI (which markers cite the
same sentence in different articles).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from qa.cite import MARKER, marker_numbers, split_claims
from qa.types import Answer, Citation


def footnote_head(k: int, c: Citation) -> str:
    """Where citation `k` points: `[k] file, sentence n:` (the CLI wraps the quote below it)."""
    return f"[{k}] {c.file}, sentence {c.sentence}:"


def footnote_lines(answer: Answer) -> list[str]:
    """One line per citation: `[k] file, sentence n: “quote”`."""
    return [f"{footnote_head(k, c)} “{c.quote}”" for k, c in enumerate(answer.citations, 1)]


def with_footnotes(answer: Answer) -> str:
    """The answer text followed by a blank line and its footnotes (just the text for a refusal)."""
    lines = footnote_lines(answer)
    return answer.answer if not lines else answer.answer + "\n\n" + "\n".join(lines)


def marker_groups(answer: Answer) -> list[list[int]]:
    """Markers that the pipeline attached together to one sentence, e.g. `[[1, 2, 3], [4]]`.

    The pipeline cites every article that carries a sentence, so one group is one fact and its reports.
    Only markers that point at a citation are kept.
    """
    n = len(answer.citations)
    runs: list[list[int]] = []
    end = -1
    for m in MARKER.finditer(answer.answer):  # adjacent markers ("[1][2][3]") are one run
        if m.start() != end:
            runs.append([])
        runs[-1] += marker_numbers(m)
        end = m.end()
    groups = [list(dict.fromkeys(k for k in run if 1 <= k <= n)) for run in runs]
    return [g for g in groups if g]


def siblings(answer: Answer, k: int) -> list[int]:
    """The markers cited together with marker `k` (including `k`), in order."""
    for g in marker_groups(answer):
        if k in g:
            return g
    return [k] if 1 <= k <= len(answer.citations) else []


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip(' .“”"').lower()


def unsent_claims(answer: Answer, sent: Iterable[str]) -> list[dict[str, Any]]:
    """Claim events for the answer's sentences that were not streamed as claims already (`sent`: their
    texts). The pipeline streams a claim once the next one begins, so the last sentence or a quoted
    fallback may only be in the final answer; a stream still shows each one as a verified claim before
    `done`."""
    seen = {_norm(t) for t in sent}
    out = []
    for claim in split_claims(answer.answer):
        ks = [k for k in claim.markers if 1 <= k <= len(answer.citations)]
        if not ks or _norm(claim.text) in seen:
            continue
        seen.add(_norm(claim.text))
        cits = [answer.citations[k - 1] for k in ks]
        out.append(
            {
                "text": claim.text,
                "sentence_ids": [c.id for c in cits],
                "citations": [c.model_dump() for c in cits],
            }
        )
    return out


REFINED_PREFIX = "\n\nRefined: "


def same_answer(a: Answer, b: Answer) -> bool:
    """Do two answers say the same thing with the same citations?"""
    return a.answer == b.answer and [c.id for c in a.citations] == [c.id for c in b.citations]


def refinement(draft: Answer, final: Answer) -> str:
    """What an append-only stream adds after the draft it sent: nothing when the final answer is the
    draft, else the final answer with its own footnotes under "Refined:"."""
    return "" if same_answer(draft, final) else REFINED_PREFIX + with_footnotes(final)
