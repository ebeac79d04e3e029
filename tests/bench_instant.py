"""Answer at once, measured (a section of `make bench`; alone: `python -m tests.bench_instant`).

1. Time to the first verified claim on the seeds with the embedded default (QA_REFINE=auto: no model
   call), against the time to the model's final answer in the same run (QA_REFINE=always, same model,
   retriever and questions), as p50 and as a ratio.
2. Answers per second at 32 clients × 2 questions (all clients at once, no retries) against `qa serve`
   in a subprocess, for the default and for a model-always configuration (QA_REFINE=always, whose
   admission is the model's `QA_CONCURRENCY`, as every answer was before), in the same run.

Numbers, not assertions. Every figure is wall-clock time on a shared CPU: read it with the load average.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench import BIN, SEEDS, env_for_children, log, pct
from tests.helpers import stop_process

CLIENTS = 32
QUESTIONS = 2
FIRST_CLAIM_TARGET_MS = 150.0
RATIO_TARGET = 0.10
NLP_TARGET_MS = 30.0  # issue 11: the parse and verification a question adds
OVERHEAD_TARGET = 0.05  # issue 11: all but the model, as a share of an answer that runs it
THROUGHPUT_TARGET = 10.0


def _p50(values: Sequence[float]) -> float:
    return pct(values, 50)


def _p95(values: Sequence[float]) -> float:
    return pct(values, 95)


@dataclass
class Timed:
    """One question through QAService.stream: when the first verified claim (or draft) came, when the
    answer was done, and whether it was refused."""

    question: str
    first_claim_ms: float | None
    done_ms: float
    refused: bool
    model_ran: bool
    timings: dict[str, float]


def time_stream(service: Any, question: str) -> Timed:
    """Stream one question, noting the first `draft` or `claim` event and `done`."""
    t0 = time.perf_counter()
    first: float | None = None
    answer = None
    for ev in service.stream(question):
        if ev.type in ("draft", "claim") and first is None:
            first = (time.perf_counter() - t0) * 1e3
        if ev.type == "done":
            answer = ev.data["answer"]
    done = (time.perf_counter() - t0) * 1e3
    assert answer is not None
    return Timed(question, first, done, answer.refused, "prefill_ms" in answer.timings, dict(answer.timings))


def first_claim(
    settings: Any, questions: Sequence[str], model_questions: int
) -> tuple[list[Timed], list[Timed], str]:
    """The default (no model) over every question, then QA_REFINE=always over the first
    `model_questions`, with one model, retriever and scheduler kind; returns both lists and the model."""
    from qa.llm import make_llm
    from qa.pipeline import Pipeline
    from qa.retrieve import Retriever
    from qa.service import QAService

    llm, _ = make_llm(settings)
    retriever = Retriever(settings)
    default = QAService(settings, pipeline=Pipeline(settings, llm=llm, retriever=retriever))
    always_settings = settings.replaced(refine="always")
    always = QAService(always_settings, pipeline=Pipeline(always_settings, llm=llm, retriever=retriever))
    for q in questions[:3]:  # load spaCy, warm the parse cache's code paths and the model's prefix
        default.ask(q)
    always.ask(questions[0])
    log(f"first verified claim, default: {len(questions)} questions")
    quick = [time_stream(default, q) for q in questions]
    log(f"final answer with the model (QA_REFINE=always): {model_questions} questions")
    slow = [time_stream(always, q) for q in questions[:model_questions]]
    return quick, slow, f"{llm.backend}:{llm.name}"


# ---- throughput ----------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_idle(pid: int, quiet_s: float = 1.0, limit_s: float = 120.0) -> None:
    """Until the process has used almost no CPU for `quiet_s` (its warm-up, examples included, is done)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        before = _cpu_s(pid)
        time.sleep(quiet_s)
        if _cpu_s(pid) - before < 0.05 * quiet_s:
            return


def load_run(env: dict[str, str], questions: Sequence[str], log_path: Path) -> dict[str, Any]:
    """Start `qa serve` with `env`, wait until it is ready and idle, then 32 clients × 2 questions at
    once; returns counts, wall time and answers per second."""
    import httpx

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as sink:
        proc = subprocess.Popen(
            [str(BIN / "qa"), "serve", "--port", str(port)], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"qa serve did not become ready: {log_path.read_text()[-500:]}")
            try:
                if httpx.get(f"{url}/api/health", timeout=30).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        httpx.post(f"{url}/api/ask", json={"question": questions[0]}, timeout=180)  # a warm-up answer
        _wait_idle(proc.pid)
        statuses: list[int] = []
        retry_after: list[str] = []
        latencies: list[float] = []
        lock = threading.Lock()

        def client(i: int) -> None:
            with httpx.Client(base_url=url, timeout=600) as c:
                for j in range(QUESTIONS):
                    t0 = time.perf_counter()
                    r = c.post("/api/ask", json={"question": questions[(i * QUESTIONS + j) % len(questions)]})
                    with lock:
                        statuses.append(r.status_code)
                        if r.status_code == 200:
                            latencies.append(time.perf_counter() - t0)
                        else:
                            retry_after.append(r.headers.get("retry-after", ""))

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    finally:
        stop_process(proc)
    answered = statuses.count(200)
    return {
        "answered": answered,
        "busy": statuses.count(503),
        "other": len(statuses) - answered - statuses.count(503),
        "retry_after_ok": all(v.isdigit() and int(v) >= 1 for v in retry_after),
        "wall_s": wall,
        "per_s": answered / wall,
        "p50_s": _p50(latencies),
        "p95_s": _p95(latencies),
    }


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    return {**env_for_children(data_dir), **extra}


# ---- the section -----------------------------------------------------------------------------------------
def run(rep: Any, data_dir: Path, tmp: Path, questions: Sequence[str], model_questions: int) -> None:
    """Measure and report into `rep` (tests.bench.Report): tables and targets. `data_dir` holds an index
    of the seeds; `questions` are the answerable seed questions."""
    from qa.settings import Settings

    settings = Settings(data_dir=data_dir, corpus_dir=SEEDS, llm="llamacpp")
    quick, slow, model = first_claim(settings, questions, model_questions)
    claimed = [t.first_claim_ms for t in quick if t.first_claim_ms is not None]
    same = {t.question for t in slow}
    claimed_same = [t.first_claim_ms for t in quick if t.question in same and t.first_claim_ms is not None]
    final = [t.done_ms for t in slow]
    drafts = [t.first_claim_ms for t in slow if t.first_claim_ms is not None]
    ratio = _p50(claimed_same) / _p50(final)

    rep(f"## Answer at once ({model}, seeds)")
    rep()
    rep(
        f"`QAService.stream` per question, in one process: the default (QA_REFINE=auto, which with the "
        f"embedded model makes no model call) over the {len(quick)} answerable questions of "
        f"qa/eval/pairs.yaml, then QA_REFINE=always (same model, retriever and index) over the first "
        f"{len(slow)} of them. p50 / p95 ms."
    )
    rep()
    rep.table(
        ["", "questions", "first verified claim", "final answer"],
        [
            (
                "default (no model call)",
                f"{len(claimed)} claimed of {len(quick)} ({sum(t.refused for t in quick)} refused)",
                f"{_p50(claimed):.0f} / {_p95(claimed):.0f}",
                f"{_p50([t.done_ms for t in quick]):.0f} / {_p95([t.done_ms for t in quick]):.0f}",
            ),
            (
                "default, the same questions as the model row",
                f"{len(claimed_same)}",
                f"{_p50(claimed_same):.0f} / {_p95(claimed_same):.0f}",
                "",
            ),
            (
                "QA_REFINE=always (the model refines every answer)",
                f"{len(slow)} ({sum(t.model_ran for t in slow)} ran the model)",
                f"{_p50(drafts):.0f} / {_p95(drafts):.0f} (the draft, before the model)",
                f"{_p50(final):.0f} / {_p95(final):.0f}",
            ),
        ],
    )
    rep(
        f"First verified claim with the default over the model's final answer (p50, same questions): "
        f"{_p50(claimed_same):.0f} / {_p50(final):.0f} ms = {100 * ratio:.1f} %."
    )
    rep()
    rep.target(
        "first verified claim p50, seeds, embedded default",
        f"≤ {FIRST_CLAIM_TARGET_MS:.0f} ms",
        f"{_p50(claimed):.0f} ms",
        _p50(claimed) <= FIRST_CLAIM_TARGET_MS,
    )
    rep.target(
        "first verified claim / the model's final answer (p50)",
        f"≤ {100 * RATIO_TARGET:.0f} %",
        f"{100 * ratio:.1f} %",
        ratio <= RATIO_TARGET,
    )
    # Issue 11: the parse (spaCy, cached per sentence) and the verification a question adds, and the share
    # of a model answer that is not the model's prefill and decode.
    nlp = [t.timings.get("nlp_ms", 0.0) + t.timings.get("verify_ms", 0.0) for t in quick]
    share = [
        (t.timings["total_ms"] - t.timings.get("prefill_ms", 0.0) - t.timings.get("decode_ms", 0.0))
        / t.timings["total_ms"]
        for t in slow
        if t.timings.get("total_ms")
    ]
    rep(
        f"Per question with the default: parse + verify (nlp_ms + verify_ms) p50 {_p50(nlp):.0f} ms, "
        f"p95 {_p95(nlp):.0f} ms; with the model, everything but its prefill and decode is "
        f"{100 * _p50(share):.1f} % of the answer (p50)."
    )
    rep()
    rep.target(
        "added per-question NLP (parse + verify) p50, seeds",
        f"≤ {NLP_TARGET_MS:.0f} ms",
        f"{_p50(nlp):.0f} ms",
        _p50(nlp) <= NLP_TARGET_MS,
    )
    rep.target(
        "overhead (all but prefill and decode) / a model answer (p50)",
        f"≤ {100 * OVERHEAD_TARGET:.0f} %",
        f"{100 * _p50(share):.1f} %",
        _p50(share) <= OVERHEAD_TARGET,
    )

    log(f"throughput: {CLIENTS} clients × {QUESTIONS} questions, default then QA_REFINE=always")
    runs = {
        "default (QA_REFINE=auto: no model call; admission QA_CONCURRENCY_NO_MODEL=64)": load_run(
            _env(data_dir), questions, tmp / "serve-default.log"
        ),
        "model-always (QA_REFINE=always; admission QA_CONCURRENCY=4, as every answer before)": load_run(
            _env(data_dir, QA_REFINE="always"), questions, tmp / "serve-always.log"
        ),
    }
    rep(f"### Throughput: {CLIENTS} clients × {QUESTIONS} questions, all at once, no retries (`qa serve`)")
    rep()
    rep.table(
        ["configuration", "200", "503 (Retry-After ≥ 1)", "other", "wall", "answers/s", "latency p50 / p95"],
        [
            (
                name,
                r["answered"],
                f"{r['busy']} ({'yes' if r['retry_after_ok'] else 'NO'})",
                r["other"],
                f"{r['wall_s']:.1f} s",
                f"{r['per_s']:.2f}",
                f"{r['p50_s']:.2f} / {r['p95_s']:.2f} s",
            )
            for name, r in runs.items()
        ],
    )
    d, a = runs.values()
    gain = d["per_s"] / a["per_s"] if a["per_s"] else float("inf")
    rep(
        f"Answers per second, default over model-always: {d['per_s']:.2f} / {a['per_s']:.2f} = {gain:.1f}×; "
        f"requests lost (neither 200 nor 503): {d['other'] + a['other']}."
    )
    rep()
    rep.target(
        f"answers/s at {CLIENTS} clients, default / model-always",
        f"≥ {THROUGHPUT_TARGET:.0f}×",
        f"{gain:.1f}× ({d['per_s']:.2f} vs {a['per_s']:.2f} /s)",
        gain >= THROUGHPUT_TARGET,
    )


def main(argv: list[str] | None = None) -> int:
    """This section alone, on a fresh index of the seeds in a tmp dir."""
    from index.build import index_corpus
    from qa.settings import Settings
    from tests.bench import Report, load_note, seed_questions

    ap = argparse.ArgumentParser(prog="python -m tests.bench_instant", description=__doc__.splitlines()[0])
    ap.add_argument("--model-questions", type=int, default=12, help="questions answered with the model")
    ap.add_argument("--out", type=Path, help="also write the report to this file")
    args = ap.parse_args(argv)
    for k, v in _env(Path()).items():
        if not k.startswith("QA_"):
            os.environ.setdefault(k, v)
    rep = Report()
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="qa-bench-instant-") as d:
        tmp = Path(d)
        data = tmp / "data"
        index_corpus(Settings(data_dir=data, corpus_dir=SEEDS, llm="llamacpp").index)
        questions = [q for q, ev in seed_questions() if ev]
        run(rep, data, tmp, questions, args.model_questions)
    rep(load_note())
    rep()
    rep.targets_table()
    rep.load_span(load0)
    if args.out:
        args.out.write_text("\n".join(rep.lines) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
