"""Scoring, pure and deterministic: no model judges another model, nothing here reads a file.

A *record* is one pipeline's output for one pair, as written to results.json: a mapping with `answer`,
`refused`, `citations` ([{id, file, sentence, quote, start, end}]), `retrieved` (sentence ids, best first),
`timings` (ms) and optionally `error`. The article texts come in as a `Sources` (file name → text).

Definitions (the report repeats them; the citation metrics are computed in qa/eval/citations.py):

- answer accuracy, over answerable pairs: not refused, and every acceptable-answer group of the pair
  matches the answer text (`groups_match`). A refusal of an answerable pair is a wrong answer.
- citation validity, over every citation of every record: the citation is exactly one citable sentence of
  the file: file_text[start:end] == quote, that span is sentence `sentence` of `split_sentences`, the id
  is `<file>#<sentence>`, and the sentence is not boilerplate. A marker `[k]` in the answer with no k-th
  citation counts as one more citation, invalid.
- citation support (ALCE citation recall), per answered pair: the share of answer sentences (claims, as
  `qa.cite.split_claims` cuts them) that cite something and are supported (`qa.cite.support`) by the union
  of the quotes they cite.
- citation precision (ALCE, as its evaluation code computes it), per answered pair: the share of
  (claim, citation) uses that are relevant. A use is irrelevant when the claim is not supported by all its
  citations together, or when the citation alone does not support the claim and the others without it do.
- evidence hit, per answered answerable pair: some citation quotes a gold `contains` string in its file.
- retrieval recall@k and reciprocal rank, per answerable pair, by sentence id: gold ids are the citable
  sentences of the evidence files that contain an evidence `contains` string; `retrieved` is the ranking.
- refusals: true refusal rate = refused unanswerable / unanswerable; false refusal rate = refused
  answerable / answerable; refusal accuracy = share of pairs on the right side of answer-or-refuse.
- latency: p50 and p95 (linear interpolation between closest ranks) of every `*_ms` timing.
- short-answer metrics (exact_match, short_answer_f1, contains_gold, cited_gold_span, fooled_by_plausible,
  answer words): defined in qa/eval/short.py. exact_match, short_answer_f1, contains_gold and
  cited_gold_span are over answerable pairs, a refusal or an error scoring 0; exact match and F1 need one
  answer group (a SQuAD-style question, or a shipped pair with a single group), cited_gold_span needs gold
  spans (SQuAD-style); elsewhere they are None. A SQuAD-style question's gold sentences (for evidence hit,
  recall and MRR) are the citable sentences that share a character with a gold span.
- conflict metrics (conflict_surfaced over questions with two or more versions, false_conflict over the
  others): defined in qa/eval/versions.py.
- stand-in metrics (standin_*), for records answered with the capable-model stand-in:
  qa/eval/standin_score.py.

"Answered" means not refused and no error. Per-pair rates are averaged over the pairs where they are
defined (macro), except validity, which is pooled over all citations (micro) because its floor is 100 %.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

import numpy as np

from qa.eval import short
from qa.eval.citations import Sources, dangling_markers, evidence_hit, invalid_reason, score_claims
from qa.eval.pairs import Evidence, Pair, Span
from qa.eval.standin_score import score_standin, standin_summary
from qa.eval.versions import conflict_metrics

RECALL_KS: tuple[int, ...] = (5, 20)
# Per-record booleans/floats averaged over the records where they are defined.
SHORT_RATES: tuple[str, ...] = (
    "exact_match",
    "short_answer_f1",
    "contains_gold",
    "cited_gold_span",
    "fooled_by_plausible",
    "conflict_surfaced",
    "false_conflict",
)
# Stages shown first in the latency table; any other `*_ms` timing follows in name order.
STAGES: tuple[str, ...] = ("retrieve_ms", "prefill_ms", "decode_ms", "verify_ms", "total_ms")
_QUOTES = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "‛": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "–": "-",
        "—": "-",
        "‐": "-",
        "‑": "-",
        "−": "-",
    }
)


# ---- answers --------------------------------------------------------------------------------------------
def normalize(text: str) -> str:
    """NFKC, straight quotes, plain dashes, one space for any whitespace run, case-folded."""
    t = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return re.sub(r"\s+", " ", t).strip().casefold()


@cache
def _phrase(alternative: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(normalize(alternative)) + r"(?!\w)")


def groups_match(groups: Sequence[Sequence[str]], text: str) -> bool:
    """True when every acceptable-answer group (a list of alternatives) has an alternative that occurs in
    `text` as a whole phrase, and there is at least one group."""
    t = normalize(text)
    return bool(groups) and all(any(_phrase(a).search(t) for a in g if a.strip()) for g in groups)


def gold_ids(evidence: Iterable[Evidence], sources: Sources) -> list[str]:
    """Ids of the citable sentences that hold an evidence string, in evidence order, without repeats."""
    out: dict[str, None] = {}
    for ev in evidence:
        for s in sources.sentences(ev.file):
            if s.boilerplate is None and ev.contains in s.text:
                out[s.id] = None
    return list(out)


def span_gold_ids(file: str, spans: Iterable[Span], sources: Sources) -> list[str]:
    """Ids of the citable sentences of `file` that share a character with a gold span, in file order."""
    spans = list(spans)
    return [
        s.id
        for s in sources.sentences(file)
        if s.boilerplate is None and any(s.start < b and a < s.end for a, b in spans)
    ]


def pair_gold_ids(pair: Pair, sources: Sources) -> list[str]:
    """The gold sentence ids of an answerable pair: from its spans when it has them, else its evidence."""
    if not pair.answerable:
        return []
    if pair.file is not None and pair.spans:
        return span_gold_ids(pair.file, pair.spans, sources)
    return gold_ids(pair.evidence, sources)


# ---- retrieval ------------------------------------------------------------------------------------------
def recall_at_k(retrieved: Sequence[str], gold: Sequence[str], k: int) -> float | None:
    """Share of gold ids among the first k retrieved ids (None without gold)."""
    if not gold:
        return None
    return len(set(retrieved[:k]) & set(gold)) / len(set(gold))


def reciprocal_rank(retrieved: Sequence[str], gold: Sequence[str]) -> float | None:
    """1 / rank of the first gold id retrieved; 0 when none is; None without gold."""
    if not gold:
        return None
    g = set(gold)
    for i, sid in enumerate(retrieved, 1):
        if sid in g:
            return 1.0 / i
    return 0.0


# ---- per pair -------------------------------------------------------------------------------------------
def score_record(
    pair: Pair, record: Mapping[str, Any], sources: Sources, ks: Sequence[int] = RECALL_KS
) -> dict[str, Any]:
    """Every per-pair metric for one record (None where a metric does not apply)."""
    answer = str(record.get("answer") or "")
    refused = bool(record.get("refused"))
    error = bool(record.get("error"))
    answered = not refused and not error
    citations: list[Mapping[str, Any]] = list(record.get("citations") or [])
    reasons = [(c.get("id"), invalid_reason(c, sources)) for c in citations]
    dangling = dangling_markers(answer, len(citations))
    invalid = [f"{cid}: {why}" for cid, why in reasons if why] + [
        f"[{k}]: the marker points at no citation" for k in dangling
    ]
    claims = score_claims(answer, [str(c.get("quote") or "") for c in citations]) if answered else []
    uses = [p for c in claims for p in c.precise]
    gold = pair_gold_ids(pair, sources)
    retrieved = [str(x) for x in record.get("retrieved") or []]
    valid = [c for c, (_, why) in zip(citations, reasons, strict=True) if why is None]
    groups = pair.groups()
    if pair.file is not None and pair.spans:
        hit = short.overlaps_span(valid, pair.file, pair.spans)
    else:
        hit = evidence_hit(citations, pair.evidence)
    out: dict[str, Any] = {
        "answerable": pair.answerable,
        "refused": refused,
        "error": error,
        "correct": (answered and groups_match(groups, answer)) if pair.answerable else None,
        "citations": len(citations) + len(dangling),
        "citations_valid": sum(1 for _, why in reasons if why is None),
        "invalid_citations": invalid,
        "claims": len(claims),
        "claims_supported": sum(1 for c in claims if c.supported),
        "citation_support": (sum(c.supported for c in claims) / len(claims)) if claims else None,
        "citation_precision": (sum(uses) / len(uses) if uses else 0.0) if claims else None,
        "evidence_hit": hit if pair.answerable and answered else None,
        "gold_ids": gold,
        "rr": reciprocal_rank(retrieved, gold),
    }
    for k in ks:
        out[f"recall@{k}"] = recall_at_k(retrieved, gold, k)
    out.update(short_answer_metrics(pair, answer, answered, valid, sources))
    out.update(conflict_metrics(pair, record))
    info = record.get("standin")
    if isinstance(info, Mapping):
        out.update(score_standin(info, out, answer, answered))
    return out


def short_answer_metrics(
    pair: Pair, answer: str, answered: bool, valid: Sequence[Mapping[str, Any]], sources: Sources
) -> dict[str, Any]:
    """The short-answer metrics of one record (definitions in qa/eval/short.py); `valid` are its valid
    citations."""
    sa = short.short_answer(answer) if answered else None
    groups = pair.groups()
    one_group = groups[0] if len(groups) == 1 else None
    text = sources.text(pair.file) if pair.file is not None else None
    out: dict[str, Any] = {
        "short_answer": sa,
        "answer_words": short.word_count(answer) if answered else None,
        "short_answer_words": short.word_count(sa) if sa is not None else None,
        "exact_match": None,
        "short_answer_f1": None,
        "contains_gold": None,
        "cited_gold_span": None,
        "fooled_by_plausible": None,
    }
    if pair.answerable:
        if one_group is not None:
            out["exact_match"] = answered and short.exact_match(sa, one_group)
            out["short_answer_f1"] = short.best_f1(sa, one_group) if answered else 0.0
        out["contains_gold"] = answered and short.contains_groups(answer, groups)
        if pair.file is not None and pair.spans and text is not None:
            out["cited_gold_span"] = answered and short.cites_span(valid, pair.file, text, pair.spans)
    elif pair.plausible:
        out["fooled_by_plausible"] = answered and short.contains_groups(answer, [list(pair.plausible)])
    return out


# ---- summary --------------------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0–100), numpy's default (linear between closest ranks); None when empty."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if len(values) else None


def _mean(values: Iterable[float | bool | None]) -> float | None:
    xs = [float(v) for v in values if v is not None]
    return sum(xs) / len(xs) if xs else None


def _share(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def latency(timings: Sequence[Mapping[str, float]]) -> dict[str, dict[str, float | None]]:
    """p50 and p95 of each `*_ms` timing that any record has, known stages first."""
    keys = {k for t in timings for k in t if k.endswith("_ms")}
    order = [s for s in STAGES if s in keys] + sorted(keys - set(STAGES))
    out: dict[str, dict[str, float | None]] = {}
    for k in order:
        vals = [float(t[k]) for t in timings if k in t]
        out[k] = {"p50": percentile(vals, 50), "p95": percentile(vals, 95), "n": float(len(vals))}
    return out


def summarize(records: Sequence[Mapping[str, Any]], ks: Sequence[int] = RECALL_KS) -> dict[str, Any]:
    """Aggregate scored records (each with `metrics` from `score_record` and `timings`)."""
    ms = [r["metrics"] for r in records]
    ans = [m for m in ms if m["answerable"]]
    una = [m for m in ms if not m["answerable"]]
    n_cit = sum(m["citations"] for m in ms)
    summary: dict[str, Any] = {
        "pairs": len(ms),
        "answerable": len(ans),
        "unanswerable": len(una),
        "errors": sum(1 for m in ms if m["error"]),
        "answer_accuracy": _share([bool(m["correct"]) for m in ans]),
        "citation_validity": sum(m["citations_valid"] for m in ms) / n_cit if n_cit else None,
        "citations": n_cit,
        "citation_support": _mean(m["citation_support"] for m in ms),
        "citation_precision": _mean(m["citation_precision"] for m in ms),
        "evidence_hit": _mean(m["evidence_hit"] for m in ms),
    }
    for k in ks:
        summary[f"recall@{k}"] = _mean(m[f"recall@{k}"] for m in ans)
    summary["mrr"] = _mean(m["rr"] for m in ans)
    summary["true_refusal"] = _share([m["refused"] for m in una])
    summary["false_refusal"] = _share([m["refused"] for m in ans])
    summary["refusal_accuracy"] = _share([m["refused"] != m["answerable"] for m in ms])
    for key in SHORT_RATES:
        summary[key] = _mean(m.get(key) for m in ms)
    for key in ("answer_words", "short_answer_words"):
        summary[f"{key}_p50"] = percentile([float(m[key]) for m in ms if m.get(key) is not None], 50)
    summary.update(standin_summary(ms))
    summary["latency"] = latency([r.get("timings") or {} for r in records])
    return summary


def check_floors(summary: Mapping[str, Any], floors: Mapping[str, float]) -> list[str]:
    """One line per metric that misses its floor. A key `max_<metric>` is a ceiling instead."""
    failures: list[str] = []
    for key, bound in floors.items():
        ceiling = key.startswith("max_")
        metric = key[4:] if ceiling else key
        value = summary.get(metric)
        if not isinstance(value, int | float):
            failures.append(f"{metric}: not measured (floor {bound:.3f})")
        elif ceiling and value > bound:
            failures.append(f"{metric}: {value:.3f} is above its ceiling {bound:.3f}")
        elif not ceiling and value < bound:
            failures.append(f"{metric}: {value:.3f} is below its floor {bound:.3f}")
    return failures
