"""Benchmark: an uploaded article's time to `ready`, and answering while it is indexed.

A live server (packaged model, a tmp copy of the seeds, indexed) on 127.0.0.1; each article is one
`POST /api/documents` of at least 2,000 words of real news prose (paragraphs of the evaluation sets'
articles, which the index does not hold, different ones each time so nothing is cached), then
`GET /api/documents` every 50 ms until it says `ready` (answerable: the server's retriever has taken in the
commit). Idle: nothing else runs. Then the same with a client asking questions one after another
meanwhile: their latency against the idle one.

Run alone: `python -m tests.bench_documents`; `make bench` (tests/bench.py) runs it too. Prints numbers;
asserts nothing about time.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tests.bench import SEEDS, log

SETS = Path(__file__).resolve().parent.parent / "qa" / "eval" / "sets"
QUESTION = "Which district did the Taliban take?"


def articles(count: int, words: int = 2000) -> list[str]:
    """`count` articles of at least `words` words each, none sharing a paragraph: the evaluation sets'
    articles, paragraph by paragraph, dealt out in order."""
    paragraphs = [
        para
        for p in sorted(SETS.glob("*/corpus/*.txt"))
        for para in p.read_text("utf-8").split("\n\n")
        if para.strip()
    ]
    out: list[str] = []
    current: list[str] = []
    for para in paragraphs:
        current.append(para)
        if sum(len(x.split()) for x in current) >= words:
            out.append("\n\n".join(current))
            current = []
            if len(out) == count:
                return out
    raise ValueError(f"the evaluation sets hold fewer than {count} articles of {words} words")


def _ready_s(http: Any, name: str, text: str) -> float:
    """Seconds from POST to `ready` for one article."""
    t0 = time.perf_counter()
    r = http.post("/api/documents", files=[("file", (name, text.encode()))])
    assert r.json()["files"][0]["status"] == "queued", r.text
    while True:
        docs = {d["name"]: d for d in http.get("/api/documents").json()["documents"]}
        if docs[name]["status"] not in ("queued", "indexing"):
            assert docs[name]["status"] == "ready", docs[name]
            return time.perf_counter() - t0
        time.sleep(0.05)


def _ask_ms(http: Any) -> float:
    t0 = time.perf_counter()
    r = http.post("/api/ask", json={"question": QUESTION})
    assert r.status_code == 200, r.text
    return (time.perf_counter() - t0) * 1e3


def run(rep: Any, tmp: Path) -> None:
    """Measure and report into `rep` (tests.bench.Report)."""
    from index.build import index_corpus
    from qa.service import QAService
    from tests.live_server import client, serve, settings_from_env

    corpus = tmp / "documents-corpus"
    shutil.copytree(SEEDS, corpus)
    settings = settings_from_env(
        QA_DATA_DIR=str(tmp / "documents-data"), QA_CORPUS_DIR=str(corpus), QA_LLM="llamacpp"
    )
    index_corpus(settings.index)
    service = QAService(settings)
    service.pipeline()
    server = serve(service)
    texts = articles(4)
    try:
        with client(server.url) as http:
            _ask_ms(http)  # warm
            idle_ask = [_ask_ms(http) for _ in range(10)]
            log("documents: time to ready, idle")
            idle = [_ready_s(http, f"article-{i}.txt", texts[i]) for i in range(3)]
            during: list[float] = []
            stop = threading.Event()

            def asker() -> None:
                with client(server.url) as c:
                    while not stop.is_set():
                        during.append(_ask_ms(c))

            log("documents: time to ready while a client asks")
            t = threading.Thread(target=asker)
            t.start()
            busy = _ready_s(http, "article-3.txt", texts[3])
            stop.set()
            t.join()
    finally:
        server.stop()
    words = [len(t.split()) for t in texts]
    rep("## Adding an article (`POST /api/documents` → `ready`)")
    rep()
    rep.table(
        ["what", "measured"],
        [
            (
                f"2,000-word article ({min(words[:3])}–{max(words[:3])} words), service idle: time to "
                "`ready`, each of 3",
                " / ".join(f"{s:.1f} s" for s in idle),
            ),
            (f"the same ({words[3]} words) while a client asks questions back to back", f"{busy:.1f} s"),
            ("`POST /api/ask` latency idle, p50 (10 questions)", f"{statistics.median(idle_ask):.0f} ms"),
            (
                f"`POST /api/ask` latency while the article is indexed, p50 / max ({len(during)} questions)",
                f"{statistics.median(during):.0f} / {max(during):.0f} ms" if during else "none",
            ),
        ],
    )
    rep.target("2,000-word article `ready`, service idle", "≤ 10 s", f"{max(idle):.1f} s", max(idle) <= 10)


def main(argv: list[str] | None = None) -> int:
    """Run this benchmark alone and print its report."""
    from tests.bench import Report, load_note

    argparse.ArgumentParser(
        prog="python -m tests.bench_documents", description=__doc__.splitlines()[0]
    ).parse_args(argv)
    rep = Report()
    tmp = Path(tempfile.mkdtemp(prefix="qa-bench-docs-"))
    try:
        run(rep, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rep.targets_table()
    rep(load_note())
    return 0


if __name__ == "__main__":
    sys.exit(main())
