"""Issue 11, a cheap reader stand-in: does the embedder's similarity between the evidence sentence and the
question with the candidate put in place of its wh-phrase ("What caused the outage?" + "a faulty valve" ->
"a faulty valve caused the outage") pick better spans?

Reads the files `span_lm.py collect` wrote (the candidates it scored, with their sentences) and reports
top-1 span accuracy over answerable questions with the product's score plus w x (that similarity minus the
question's best), for a few w:

    python docs/experiments/hypothesis_sim.py /tmp/lm/squad2-complexity.json /tmp/lm/squad2-rhine.json
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from index.embed import make_embedder
from index.settings import IndexSettings
from qa.weights import WEIGHTS

WH = re.compile(r"^(what|which|who|whom|whose|when|where|how many|how much|how)\b", re.IGNORECASE)


def hypothesis(question: str, span: str) -> str:
    q = question.rstrip("?")
    return WH.sub(span, q, count=1) if WH.search(q) else f"{q} {span}"


def scored(path: Path) -> list[dict[str, Any]]:
    emb = make_embedder(IndexSettings())
    rows = [r for r in json.loads(path.read_text())["rows"] if r["answerable"]]
    out, spent = [], 0.0
    for r in rows:
        cs = [c for c in r["cands"] if "lm" in c]
        if not cs:
            continue
        t0 = time.perf_counter()
        v = emb.embed([hypothesis(r["q"], c["text"]) for c in cs] + [r["sentences"][c["sent"]] for c in cs])
        spent += time.perf_counter() - t0
        for i, c in enumerate(cs):
            c["hsim"] = float(v[i] @ v[len(cs) + i])
        out.append(r)
    print(f"{path.stem}: {len(out)} answerable questions, embedding {spent / len(out):.3f} s a question")
    return out


def top1(rows: list[dict[str, Any]], w: float) -> float:
    hit = 0
    for r in rows:
        cs = [c for c in r["cands"] if "hsim" in c]
        top = max(c["hsim"] for c in cs)
        best = max(cs, key=lambda c: WEIGHTS.candidate(c["f"]) + w * (c["hsim"] - top))
        hit += bool(best["good"] and r["holds"][best["sent"]])
    return round(hit / len(rows), 3)


def main(paths: list[str]) -> int:
    data = {Path(p).stem: scored(Path(p)) for p in paths}
    for w in (0.0, 1.0, 2.0, 4.0, 8.0, 16.0):
        print(f"w={w}: " + ", ".join(f"{name} {top1(rows, w)}" for name, rows in data.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
