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
import random
import re
import string
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from index.build import index_corpus
from index.settings import Settings
from qa.propose import extractive
from qa.question import analyse
from qa.spans import SpanPipeline
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


def collect(set_dir: Path, data_dir: Path, sample: int | None, seed: int) -> list[dict[str, Any]]:
    """Per question: answerable, gold answers, and each candidate's features and gold match."""
    qs = json.loads((set_dir / "questions.json").read_text(encoding="utf-8"))
    if sample:
        rng = random.Random(seed)
        qs = rng.sample(qs, min(sample, len(qs)))
    settings = Settings(
        data_dir=data_dir, corpus_dir=set_dir / "corpus", answer_core="spans", model_answers="never"
    )
    index_corpus(settings)
    pipe = SpanPipeline(settings, llm=_NoModel())
    rows = []
    for item in qs:
        info = analyse(item["q"])
        ret = pipe.retriever.retrieve(item["q"])
        pool = pipe._evidence(ret.groups[:8])
        cands = extractive(info, pool, pipe.retriever.idf)
        gold = item.get("answers") or []
        rows.append(
            {
                "q": item["q"],
                "answerable": not item.get("unanswerable"),
                "gold": gold,
                "cands": [
                    {
                        "text": c.text,
                        "f": dict(c.features),
                        "good": bool(gold) and max(f1(c.text, g) for g in gold) >= 0.5,
                    }
                    for c in cands
                ],
            }
        )
    return rows


def fit(rows: list[dict[str, Any]], names: list[str], epochs: int = 400, lr: float = 0.05) -> np.ndarray:
    """Listwise softmax weights over the questions that have a gold-matching candidate."""
    data = []
    for r in rows:
        if not r["answerable"] or not any(c["good"] for c in r["cands"]):
            continue
        x: np.ndarray = np.array([[c["f"].get(n, 0.0) for n in names] for c in r["cands"]])
        y = np.array([1.0 if c["good"] else 0.0 for c in r["cands"]])
        data.append((x, y))
    w = np.array([WEIGHTS.features.get(n, 0.0) for n in names])
    for _ in range(epochs):
        grad = 0.01 * w
        for x, y in data:
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            t = y / y.sum()
            grad += x.T @ (p - t) / len(data)
        w -= lr * grad * 10
    return w


ANSWERABLE_FEATURES = ("score", "cover", "missing_max", "sim")


def _top(r: dict[str, Any], weights: Weights) -> tuple[float, dict[str, Any] | None]:
    scored = sorted(((weights.candidate(c["f"]), c) for c in r["cands"]), key=lambda x: -x[0])
    return scored[0] if scored else (float("-inf"), None)


def fit_answerable(rows: list[dict[str, Any]], weights: Weights, epochs: int = 2000) -> dict[str, float]:
    """Logistic regression: is the question answerable, from its best candidate's score and features."""
    xs: list[list[float]] = []
    ys: list[float] = []
    for r in rows:
        s, c = _top(r, weights)
        if c is None:
            continue
        xs.append([1.0, s] + [c["f"].get(n, 0.0) for n in ANSWERABLE_FEATURES[1:]])
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
    out = {"bias": float(raw[0]), "score": float(raw[1])}
    out.update({n: float(v) for n, v in zip(ANSWERABLE_FEATURES[1:], raw[2:], strict=True)})
    out["names_missing"] = weights.answerable.get("names_missing", 0.0)
    return {k: round(v, 3) for k, v in out.items()}


def evaluate(rows: list[dict[str, Any]], weights: Weights) -> dict[str, float]:
    """Top-1 gold match over answerable questions, and the best threshold for answer-or-refuse."""
    tops = []
    for r in rows:
        s, c = _top(r, weights)
        a = weights.answerability(s, c["f"]) if c is not None else float("-inf")
        tops.append(((a, c), r))
    ans = [(s, c, r) for (s, c), r in tops if r["answerable"]]
    una = [(s, c, r) for (s, c), r in tops if not r["answerable"]]
    top1 = sum(1 for _, c, _ in ans if c and c["good"]) / max(len(ans), 1)
    best_t, best_acc = weights.threshold, -1.0
    for t in sorted({s for (s, _), _ in tops if s != float("-inf")}):
        false_ref = sum(1 for s, _, _ in ans if s < t) / max(len(ans), 1)
        if false_ref > MAX_FALSE_REFUSAL:
            break
        right = sum(1 for s, c, _ in ans if s >= t and c and c["good"]) + sum(1 for s, _, _ in una if s < t)
        acc = right / max(len(tops), 1)
        if acc > best_acc:
            best_t, best_acc = t, acc
    refused_una = sum(1 for s, _, _ in una if s < best_t) / max(len(una), 1)
    false_ref = sum(1 for s, _, _ in ans if s < best_t) / max(len(ans), 1)
    return {
        "top1": top1,
        "threshold": best_t,
        "right": best_acc,
        "true_refusal": refused_una,
        "false_refusal": false_ref,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m qa.eval.fit", description=__doc__)
    ap.add_argument("--set", required=True, help="a folder with corpus/ and questions.json")
    ap.add_argument("--data", default="data/fit", help="where the set's index is kept")
    ap.add_argument("--sample", type=int, default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-fit", action="store_true", help="only report the current weights")
    args = ap.parse_args(argv)
    set_dir = Path(args.set)
    rows = collect(set_dir, Path(args.data) / set_dir.name, args.sample, args.seed)
    print(f"current weights on {set_dir.name}: {evaluate(rows, WEIGHTS)}", file=sys.stderr)
    if args.no_fit:
        return 0
    names = sorted({n for r in rows for c in r["cands"] for n in c["f"]})
    w = fit(rows, names)
    fitted = Weights(features={n: round(float(v), 3) for n, v in zip(names, w, strict=True)})
    fitted = Weights(features=fitted.features, answerable=fit_answerable(rows, fitted))
    report = evaluate(rows, fitted)
    print(f"fitted on {set_dir.name}: {report}", file=sys.stderr)
    print(repr(fitted.features))
    print(repr(fitted.answerable))
    print(f"threshold={round(report['threshold'], 3)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
