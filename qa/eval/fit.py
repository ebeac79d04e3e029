"""Fit the answer core's weights (qa/weights.py) on ONE evaluation set; report them on the others.

    python -m qa.eval.fit --set qa/eval/sets/squad2-complexity [--sample N --seed S]

For every question the extractive proposer's candidates and their features are computed once (no model
runs). Feature weights are fitted listwise (softmax over a question's candidates, the gold-matching ones as
targets, plain gradient descent with an L2 penalty); then the answer threshold is the value that gets the
most questions right on the answer-or-refuse side with at most 10 % of answerable questions refused. The
result is printed as the Python literal to paste into qa/weights.py.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import string
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from index.build import index_corpus
from index.settings import IndexSettings
from qa.pipeline import Pipeline
from qa.score import SENTENCE_FEATURES, SPAN_FEATURES
from qa.settings import AnswerSettings, Settings
from qa.weights import WEIGHTS, Weights

MAX_FALSE_REFUSAL = 0.05  # the product would rather answer with evidence than refuse a fair question


def squad_normalize(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no a/an/the, one space."""
    t = text.lower()
    t = "".join(ch for ch in t if ch not in set(string.punctuation))
    t = re.sub(r"\b(a|an|the)\b", " ", t)
    return " ".join(t.split())


def f1(pred: str, gold: str) -> float:
    """SQuAD token F1."""
    p, g = squad_normalize(pred).split(), squad_normalize(gold).split()
    common = Counter(p) & Counter(g)
    same = sum(common.values())
    if not p or not g or same == 0:
        return 0.0
    prec, rec = same / len(p), same / len(g)
    return 2 * prec * rec / (prec + rec)


class _NoModel:
    backend = "none"
    name = "none"
    n_ctx = 2048
    stats: dict[str, float] = {}

    def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 1

    def stream(self, system: str, user: str, max_tokens: int) -> Any:
        yield from ()


def _gold_spans(item: dict[str, Any]) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for f, spans in (item.get("all_spans") or {}).items():
        out.setdefault(f, []).extend((int(a), int(b)) for a, b in spans)
    if item.get("file"):
        out.setdefault(item["file"], []).extend((int(a), int(b)) for a, b in item.get("spans") or [])
    return out


def collect(set_dir: Path, data_dir: Path, sample: int | None, seed: int) -> list[dict[str, Any]]:
    """Per question: answerable, gold answers, each evidence sentence (does it hold a gold span?) and each
    candidate's features, sentence and gold match."""
    qs = json.loads((set_dir / "questions.json").read_text(encoding="utf-8"))
    if sample:
        rng = random.Random(seed)
        qs = rng.sample(qs, min(sample, len(qs)))
    settings = Settings(
        index=IndexSettings(data_dir=data_dir, corpus_dir=set_dir / "corpus"),
        answer=AnswerSettings(refine="never"),
    )
    index_corpus(settings.index)
    pipe = Pipeline(settings, llm=_NoModel())
    rows = []
    for item in qs:
        prep = pipe.prepare(item["q"])  # the same call answering makes
        pool = prep.gathered.pool if prep is not None else []
        cands = prep.candidates if prep is not None else []
        gold = item.get("answers") or []
        spans = _gold_spans(item)
        sids = [ev.sentence.id for ev in pool]
        holds = [
            any(ev.sentence.start <= a and b <= ev.sentence.end for a, b in spans.get(ev.sentence.file, []))
            for ev in pool
        ]
        rows.append(
            {
                "q": item["q"],
                "answerable": not item.get("unanswerable"),
                "gold": gold,
                "holds": holds,
                "sentences": [ev.sentence.text for ev in pool],
                # each evidence sentence's score, best first, as (index into pool, score)
                "ranked": [(sids.index(ev.sentence.id), sc) for ev, sc in prep.sentences] if prep else [],
                "cands": [
                    {
                        "text": c.text,
                        "f": c.features.as_dict(),
                        "sent": sids.index(c.evidence.sentence.id),
                        "good": bool(gold) and max(f1(c.text, g) for g in gold) >= 0.5,
                    }
                    for c in cands
                ],
            }
        )
    return rows


def _listwise(data: list[tuple[np.ndarray, np.ndarray]], w: np.ndarray, epochs: int = 300) -> np.ndarray:
    """Softmax over each list's items, the gold ones as targets; gradient descent with an L2 penalty."""
    for _ in range(epochs):
        grad = 0.01 * w
        for x, y in data:
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            grad += x.T @ (p - y / y.sum()) / len(data)
        w = w - 0.5 * grad
    return w


def _sent(w: Weights, f: dict[str, float]) -> float:
    return sum(w.sentence.get(k, 0.0) * f.get(k, 0.0) for k in SENTENCE_FEATURES)


def _span(w: Weights, f: dict[str, float]) -> float:
    return sum(w.span.get(k, 0.0) * f.get(k, 0.0) for k in SPAN_FEATURES)


def _per_sentence(r: dict[str, Any], weights: Weights) -> dict[int, tuple[dict[str, Any], float, float]]:
    """For each sentence with candidates: its best span (by span score), sentence score, span score."""
    out: dict[int, tuple[dict[str, Any], float, float]] = {}
    for c in r["cands"]:
        sp = _span(weights, c["f"])
        if c["sent"] not in out or sp > out[c["sent"]][2]:
            out[c["sent"]] = (c, _sent(weights, c["f"]), sp)
    return out


def fit(rows: list[dict[str, Any]], base: Weights) -> Weights:
    """Sentence weights (which sentence holds the gold span), then span weights (which span of a gold
    sentence matches the gold answer), then the mix."""
    s_names = sorted(set(SENTENCE_FEATURES) - {"names_missing"})
    sent_data = []
    for r in rows:
        if not r["answerable"] or not any(r["holds"]):
            continue
        first = {c["sent"]: c for c in reversed(r["cands"])}
        idx = sorted(first)
        if not any(r["holds"][i] for i in idx):
            continue
        x = np.array([[first[i]["f"].get(n, 0.0) for n in s_names] for i in idx])
        y = np.array([1.0 if r["holds"][i] else 0.0 for i in idx])
        sent_data.append((x, y))
    ws = _listwise(sent_data, np.array([base.sentence.get(n, 0.0) for n in s_names]))
    sentence = dict(base.sentence) | {n: round(float(v), 3) for n, v in zip(s_names, ws, strict=True)}
    p_names = sorted(set(base.span) - {"model", "marked", "votes"})
    span_data = []
    for r in rows:
        good = [c for c in r["cands"] if c["good"] and r["holds"][c["sent"]]]
        for si in {c["sent"] for c in good}:
            cs = [c for c in r["cands"] if c["sent"] == si]
            x = np.array([[c["f"].get(n, 0.0) for n in p_names] for c in cs])
            y = np.array([1.0 if c["good"] else 0.0 for c in cs])
            span_data.append((x, y))
    wp = _listwise(span_data, np.array([base.span.get(n, 0.0) for n in p_names]))
    span = dict(base.span) | {n: round(float(v), 3) for n, v in zip(p_names, wp, strict=True)}
    best = (-1.0, base.mix)
    for mix in (0.0, 0.1, 0.25, 0.5, 1.0):
        w = Weights(sentence=sentence, span=span, mix=mix)
        got = _top1(rows, w)
        if got > best[0]:
            best = (got, mix)
    w = Weights(sentence=sentence, span=span, mix=best[1])
    return Weights(sentence=sentence, span=span, mix=best[1], answerable=fit_answerable(rows, w))


def _choice(r: dict[str, Any], w: Weights) -> tuple[dict[str, Any], float, float] | None:
    per = _per_sentence(r, w)
    if not per:
        return None
    return max(per.values(), key=lambda t: t[1] + w.mix * t[2])


def _top1(rows: list[dict[str, Any]], w: Weights) -> float:
    ans = [r for r in rows if r["answerable"]]
    hit = 0
    for r in ans:
        ch = _choice(r, w)
        hit += bool(ch and ch[0]["good"])
    return hit / max(len(ans), 1)


def fit_answerable(rows: list[dict[str, Any]], weights: Weights, epochs: int = 3000) -> dict[str, float]:
    """Logistic regression: is the question answerable, from the chosen sentence's and span's scores."""
    xs: list[list[float]] = []
    ys: list[float] = []
    for r in rows:
        ch = _choice(r, weights)
        if ch is None:
            continue
        xs.append([1.0, ch[1], ch[2]])
        ys.append(1.0 if r["answerable"] else 0.0)
    x: np.ndarray = np.array(xs)
    y: np.ndarray = np.array(ys)
    mu, sd = x.mean(0), x.std(0) + 1e-9
    mu[0], sd[0] = 0.0, 1.0
    z = (x - mu) / sd
    w = np.zeros(x.shape[1])
    for _ in range(epochs):
        p = 1 / (1 + np.exp(-(z @ w)))
        w -= 0.1 * (z.T @ (p - y) / len(y) + 0.001 * w)
    raw = w / sd
    raw[0] = w[0] - float((w[1:] * mu[1:] / sd[1:]).sum())
    names = ["bias", "sentence", "span"]
    return {n: round(float(v), 3) for n, v in zip(names, raw, strict=True)}


def evaluate(rows: list[dict[str, Any]], weights: Weights) -> dict[str, float]:
    """Top-1 (span and sentence) over answerable questions, and the best threshold for answer-or-refuse
    with at most MAX_FALSE_REFUSAL of answerable questions refused."""
    tops = []
    for r in rows:
        ch = _choice(r, weights)
        a = weights.answerability(ch[1], ch[2]) if ch is not None else float("-inf")
        tops.append((a, ch[0] if ch else None, r))
    ans = [t for t in tops if t[2]["answerable"]]
    una = [t for t in tops if not t[2]["answerable"]]
    top1 = sum(1 for _, c, _ in ans if c and c["good"]) / max(len(ans), 1)
    sent1 = sum(1 for _, c, r in ans if c and r["holds"][c["sent"]]) / max(len(ans), 1)
    best_t, best_acc = weights.threshold, -1.0
    for t in sorted({a for a, _, _ in tops if a != float("-inf")}):
        false_ref = sum(1 for a, _, _ in ans if a < t) / max(len(ans), 1)
        if false_ref > MAX_FALSE_REFUSAL:
            break
        right = sum(1 for a, c, r in ans if a >= t and c and r["holds"][c["sent"]]) + sum(
            1 for a, _, _ in una if a < t
        )
        acc = right / max(len(tops), 1)
        if acc > best_acc:
            best_t, best_acc = t, acc
    return {
        "top1_span": round(top1, 3),
        "top1_sentence": round(sent1, 3),
        "threshold": round(best_t, 3),
        "right": round(best_acc, 3),
        "true_refusal": round(sum(1 for a, _, _ in una if a < best_t) / max(len(una), 1), 3),
        "false_refusal": round(sum(1 for a, _, _ in ans if a < best_t) / max(len(ans), 1), 3),
    }


def _outcome_inputs(r: dict[str, Any], w: Weights) -> tuple[float, bool, bool, bool]:
    """(logit, a short answer is possible, the short answer is good, the quoted sentence holds gold),
    as qa/decide.py computes them."""
    ch = _choice(r, w)
    if ch is not None:
        quote = ch[0]["sent"]
        return w.answerability(ch[1], ch[2]), True, bool(ch[0]["good"]), bool(r["holds"][quote])
    if not r["ranked"]:
        return float("-inf"), False, False, False
    lead, score = r["ranked"][0]
    return w.answerability(score, 0.0), False, False, bool(r["holds"][lead])


def fit_outcomes(rows: list[dict[str, Any]], w: Weights) -> dict[str, float]:
    """The short-answer threshold: a short answer only where it is more often right than wrong (each
    question above it scores +1 for a good short answer, -1 for a wrong one or for an unanswerable
    question); and the share of answerable questions whose answer then holds a gold answer, with the
    quoted sentence below it, against the best sentence quoted always."""
    items = [(*_outcome_inputs(r, w), r["answerable"]) for r in rows]
    best_t, best_u = w.answer, -math.inf
    for t in sorted({a for a, ok, *_ in items if ok and a != -math.inf}):
        u = sum((1 if good and ans else -1) for a, ok, good, _, ans in items if ok and a >= t)
        if u > best_u:
            best_t, best_u = t, u
    ans = [it for it in items if it[4]]
    holds = sum(
        1 for a, ok, good, held, _ in ans if a >= w.threshold and (good if ok and a >= best_t else held)
    )
    return {
        "answer": round(best_t, 3),
        "short_answers": sum(1 for a, ok, *_ in items if ok and a >= best_t),
        "holds_gold": round(holds / max(len(ans), 1), 3),
        "quoted_always_holds_gold": round(sum(1 for *_, held, _ in ans if held) / max(len(ans), 1), 3),
    }


def main(argv: list[str] | None = None) -> int:
    """`python -m qa.eval.fit`: fit on one set and print the weights, or report them (--no-fit)."""
    ap = argparse.ArgumentParser(prog="python -m qa.eval.fit", description=__doc__)
    ap.add_argument(
        "--set", required=True, action="append", help="a folder with corpus/ and questions.json (repeatable)"
    )
    ap.add_argument("--data", default="data/fit", help="where the set's index is kept")
    ap.add_argument("--sample", type=int, default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-fit", action="store_true", help="only report the current weights")
    ap.add_argument(
        "--answerability-only",
        action="store_true",
        help="keep the sentence and span weights, fit only the answerability logit on this set",
    )
    ap.add_argument(
        "--outcomes",
        action="store_true",
        help="keep every weight, fit only the short-answer threshold (Weights.answer) on the sets given",
    )
    args = ap.parse_args(argv)
    rows = []
    for name in args.set:
        set_dir = Path(name)
        got = collect(set_dir, Path(args.data) / set_dir.name, args.sample, args.seed)
        print(f"current weights on {set_dir.name}: {evaluate(got, WEIGHTS)}", file=sys.stderr)
        print(f"outcomes on {set_dir.name}: {fit_outcomes(got, WEIGHTS)}", file=sys.stderr)
        rows += got
    if args.no_fit:
        return 0
    if args.outcomes:
        print(f"answer={fit_outcomes(rows, WEIGHTS)!r}")
        return 0
    if args.answerability_only:
        fitted = Weights(
            sentence=WEIGHTS.sentence,
            span=WEIGHTS.span,
            mix=WEIGHTS.mix,
            answerable=fit_answerable(rows, WEIGHTS),
        )
    else:
        fitted = fit(rows, WEIGHTS)
    report = evaluate(rows, fitted)
    print(f"fitted on {', '.join(args.set)}: {report}", file=sys.stderr)
    print(f"sentence={fitted.sentence!r}")
    print(f"span={fitted.span!r}")
    print(f"mix={fitted.mix} answerable={fitted.answerable!r} threshold={report['threshold']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
