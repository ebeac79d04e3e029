"""Scoring the pipeline on what the capable-model stand-in (qa/eval/standin.py) played, pure.

Stand-in metrics per record (None where the mode does not apply), keyed by the played mode:

- `standin_correct_kept` (gold): not refused, contains_gold, a short answer of at most 12 words, and a
  citation covering a gold span (cited_gold_span; evidence hit for pairs without spans);
- `standin_marker_repaired` (wrong_marker): not refused, contains_gold and a citation covering a gold span;
- `standin_hallucination_passed` (wrong_answer, plausible): not refused and the answer text contains the
  wrong value the stand-in asserted (short.contains_phrase);
- `standin_refusal_honoured` (cannot): refused.

A question the pipeline refused before asking the model is scored under its planned mode.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from qa.eval.short import contains_phrase

MAX_SHORT_WORDS = 12
STANDIN_RATES: tuple[str, ...] = (
    "standin_correct_kept",
    "standin_marker_repaired",
    "standin_hallucination_passed",
    "standin_refusal_honoured",
)


def score_standin(
    info: Mapping[str, Any], metrics: Mapping[str, Any], answer: str, answered: bool
) -> dict[str, Any]:
    """The stand-in metrics of one record (module docstring). `info` is the stand-in's log entry for the
    question (`Reply.as_dict()`), or `{"mode": planned}` when the model was not asked; `metrics` are the
    record's other metrics."""
    played = info.get("played") or info.get("mode")
    value = info.get("value")
    out: dict[str, Any] = {"standin_mode": played} | dict.fromkeys(STANDIN_RATES)
    span = metrics.get("cited_gold_span")
    span_ok = bool(span) if span is not None else bool(metrics.get("evidence_hit"))
    kept = answered and bool(metrics.get("contains_gold"))
    if played == "gold":
        words = metrics.get("short_answer_words")
        out["standin_correct_kept"] = kept and words is not None and words <= MAX_SHORT_WORDS and span_ok
    elif played == "wrong_marker":
        out["standin_marker_repaired"] = kept and span_ok
    elif played in ("wrong_answer", "plausible"):
        out["standin_hallucination_passed"] = answered and bool(value) and contains_phrase(answer, str(value))
    elif played == "cannot":
        out["standin_refusal_honoured"] = bool(metrics.get("refused"))
    return out


def standin_summary(metrics: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Means of the stand-in metrics and how often each mode was played; empty when no record has them."""
    ms = [m for m in metrics if "standin_mode" in m]
    if not ms:
        return {}
    out: dict[str, Any] = {}
    for key in STANDIN_RATES:
        vals = [float(m[key]) for m in ms if m.get(key) is not None]
        out[key] = sum(vals) / len(vals) if vals else None
    out["standin_modes"] = dict(sorted(Counter(str(m["standin_mode"]) for m in ms).items()))
    return out
