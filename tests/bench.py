"""`make bench` (`python -m tests.bench`): where the time goes, against the language model as the floor.

Prints one report (Markdown, so BENCHMARKS.md can hold it verbatim): indexing, embedding throughput,
retrieval per stage on the seeds and on a synthetic corpus of 100,000 records (tests/synthetic.py),
end-to-end answers per stage with the prefix-cache effect, the plain LlamaIndex pipeline and raw Chroma for
comparison, the time to the first verified claim and answers per second under load (tests/bench_instant.py),
time from `qa serve` to the first answer, peak memory, and each target with PASS or MISS.
Numbers, not assertions: nothing here fails a build. Everything it writes goes to a tmp dir.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tests.helpers import MAX_CHARS, stop_process

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
BIN = Path(sys.executable).parent


# ---- report ------------------------------------------------------------------------------------------
class Report:
    """Collects Markdown lines; prints each as it comes (a long run shows progress) and keeps them."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.targets: list[tuple[str, str, str, bool | None]] = []

    def __call__(self, line: str = "") -> None:
        self.lines.append(line)
        print(line, flush=True)

    def table(self, head: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        self("| " + " | ".join(head) + " |")
        self("|" + "|".join("---" for _ in head) + "|")
        for r in rows:
            self("| " + " | ".join(str(c) for c in r) + " |")
        self()

    def target(self, name: str, goal: str, measured: str, ok: bool | None) -> None:
        self.targets.append((name, goal, measured, ok))

    def targets_table(self) -> None:
        """The "Targets" section: every target with PASS or MISS."""
        self("## Targets")
        self()
        self.table(
            ["target", "goal", "measured", ""],
            [(n, g, m, "–" if ok is None else ("PASS" if ok else "MISS")) for n, g, m, ok in self.targets],
        )

    def load_span(self, load0: tuple[float, float, float]) -> None:
        """The load averages at start (`load0`) and now."""
        load1 = os.getloadavg()
        self(
            f"Load average at start {load0[0]:.1f} / {load0[1]:.1f} / {load0[2]:.1f}, at end "
            f"{load1[0]:.1f} / {load1[1]:.1f} / {load1[2]:.1f} (on {os.cpu_count()} cores)."
        )


def log(msg: str) -> None:
    """Progress on stderr, kept out of the report."""
    print(f"  … {msg}", file=sys.stderr, flush=True)


def load_note() -> str:
    """How busy the machine was: every figure here is wall-clock time on a shared CPU."""
    return f"1-min load average at this point: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores."


def proc_mb(pid: int | str = "self", field: str = "VmRSS") -> float:
    """A process's memory from /proc (VmRSS now, VmHWM peak), in MB; NaN where /proc is missing."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def ms(x: float) -> str:
    return f"{x:.1f}" if x < 100 else f"{x:.0f}"


def pct(values: Sequence[float], p: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), p)) if values else float("nan")


@dataclass
class Stages:
    """Per-stage samples in ms."""

    samples: dict[str, list[float]] = field(default_factory=dict)

    def add(self, timings: dict[str, float]) -> None:
        for k, v in timings.items():
            self.samples.setdefault(k, []).append(v)

    def row(self, label: str, keys: Sequence[str]) -> list[str]:
        cells = [label]
        for k in keys:
            vals = self.samples.get(k, [])
            cells.append(f"{ms(pct(vals, 50))} / {ms(pct(vals, 95))}" if vals else "–")
        return cells


def env_for_children(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(
        QA_DATA_DIR=str(data_dir),
        QA_CORPUS_DIR=str(SEEDS),
        QA_LLM="llamacpp",
        QA_OLLAMA_HOST="http://127.0.0.1:9",
        ANONYMIZED_TELEMETRY="False",
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
    )
    return env


def seed_questions() -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """The fixed evaluation questions (qa/eval/pairs.yaml) with their gold (file, substring) evidence."""
    import yaml

    from qa.eval.pairs import default_pairs_path, parse_pairs

    path = default_pairs_path()
    pairs = parse_pairs(yaml.safe_load(path.read_text("utf-8")), path)
    return [(p.question, tuple((e.file, e.contains) for e in p.evidence)) for p in pairs]


# ---- indexing ----------------------------------------------------------------------------------------
def bench_indexing(rep: Report, cli_data: Path) -> dict[str, float]:
    """Cold and warm `qa index` of the seeds as fresh processes (imports and model load included)."""
    out: dict[str, float] = {}
    for label in ("cold", "warm"):
        t0 = time.perf_counter()
        done = subprocess.run(
            [str(BIN / "qa"), "index"], env=env_for_children(cli_data), capture_output=True, text=True
        )
        wall = time.perf_counter() - t0
        if done.returncode != 0:
            raise RuntimeError(f"qa index failed: {done.stderr.strip()}")
        first_line = done.stdout.strip().splitlines()[0]  # the per-format table follows it
        reported = float(first_line.rsplit(" in ", 1)[1].rstrip("s"))
        out[f"{label}_wall"], out[f"{label}_reported"] = wall, reported
        log(f"qa index ({label}): {done.stdout.strip()}")
    return out


# ---- reading HTML, PDF, Word and Markdown ------------------------------------------------------------
def bench_extraction(rep: Report, tmp: Path, reps: int = 3) -> float:
    """What reading other formats costs: a cold index of the seeds written as web pages, PDFs, Word and
    Markdown files (tests/fixtures_formats.py) against a cold index of the same articles as .txt, and each
    format's time per file in a warm reader. Returns the reading time per article inside the cold index."""
    from index.build import index_corpus
    from index.extract import Limits, Reader, format_of
    from qa.settings import Settings
    from tests.fixtures_formats import every_format_corpus, seed_files

    formats = (".html", ".pdf", ".docx", ".md")
    folder = tmp / "formats-corpus"
    every_format_corpus(folder, formats)
    for p in seed_files():
        (folder / p.name).unlink()  # only the other formats: the .txt seeds are the comparison
    txt = tmp / "formats-txt"
    txt.mkdir()
    for p in sorted(folder.iterdir()):  # the same articles, one .txt per file, as the seeds are
        shutil.copy(SEEDS / f"{p.stem}.txt", txt / f"{p.stem}{p.suffix.replace('.', '_')}.txt")
    # Cold `qa index` runs as fresh processes (as a user runs it: the worker starts while the model
    # loads), alternating the two folders and keeping each one's best: on a shared machine one run says
    # little. Then the same folder in this process, for the per-format reading times.
    cli: dict[str, float] = {}
    for round_ in range(2):
        for label, src in (("txt", txt), ("formats", folder)):
            env = env_for_children(tmp / f"formats-cli-{label}-{round_}") | {"QA_CORPUS_DIR": str(src)}
            t0 = time.perf_counter()
            done = subprocess.run([str(BIN / "qa"), "index"], env=env, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if done.returncode != 0:
                raise RuntimeError(f"qa index failed: {done.stderr.strip()}")
            cli[label] = min(cli.get(label, wall), wall)
    cold: dict[str, tuple[Any, float]] = {}
    for label, src in (("txt", txt), ("formats", folder)):
        settings = Settings(data_dir=tmp / f"formats-data-{label}", corpus_dir=src, llm="llamacpp")
        t0 = time.perf_counter()
        cold[label] = (index_corpus(settings.index), time.perf_counter() - t0)
    report, cold_s = cold["formats"]
    read_files = sum(c.read for c in report.formats.values())
    read_s = sum(c.read_seconds for c in report.formats.values())
    per_article = read_s / max(1, read_files)

    t0 = time.perf_counter()
    with Reader(Limits()) as reader:
        reader.read("md", b"# warm\n\nThe worker starts.")
        start_s = time.perf_counter() - t0
        warm: dict[str, list[float]] = {}
        sizes: dict[str, list[int]] = {}
        files = sorted(folder.iterdir())
        for p in files:  # each library's first file, before timing
            reader.read(format_of(p) or "", p.read_bytes())
        items = [(p, format_of(p) or "", p.read_bytes()) for p in files] * reps
        for p, read in reader.read_all(items):  # the time the worker spent on each file
            warm.setdefault(format_of(p) or "", []).append(read.seconds * 1e3)
            sizes.setdefault(format_of(p) or "", []).append(p.stat().st_size)
    rep("## Reading HTML, PDF, Word and Markdown")
    rep()
    added = (cli["formats"] - cli["txt"]) / max(1, read_files)
    rep(
        f"The {len(seed_files())} seeds written as saved web pages with site chrome, PDFs, Word and Markdown "
        f"files (tests/fixtures_formats.py): {read_files} files. A cold `qa index` of them took "
        f"{cli['formats']:.1f} s and of the same articles as .txt {cli['txt']:.1f} s (fresh processes, best "
        f"of 2): {added * 1e3:+.0f} ms per article. In a running process, reading took {read_s:.2f} s of "
        f"a {cold_s:.1f} s cold index ({per_article * 1e3:.0f} ms per article in the worker, which reads the "
        f"next file while the indexer embeds the last; .txt: {cold['txt'][1]:.1f} s). Starting the worker "
        f"(imports and a sample of each format, overlapped with the model's load in `qa index`): "
        f"{start_s * 1e3:.0f} ms."
    )
    rep()
    rep.table(
        ["format", "files", "avg size", "read p50 / p95 in a warm worker", "in the cold index (per file)"],
        [
            (
                c,
                len(warm[c]) // reps,
                f"{sum(sizes[c]) / len(sizes[c]) / 1024:.0f} KB",
                f"{ms(pct(warm[c], 50))} / {ms(pct(warm[c], 95))} ms",
                f"{report.formats[c].read_seconds / max(1, report.formats[c].read) * 1e3:.0f} ms",
            )
            for c in sorted(warm)
        ],
    )
    rep(load_note())
    rep()
    rep.target(
        "reading a typical article (HTML, PDF, Word, Markdown) in a cold index",
        "≤ 50 ms",
        f"{per_article * 1e3:.0f} ms",
        per_article <= 0.05,
    )
    rep.target(
        "what reading other formats adds to a cold `qa index`, per article",
        "≤ 50 ms",
        f"{added * 1e3:+.0f} ms",
        added <= 0.05,
    )
    return per_article


# ---- retrieval ---------------------------------------------------------------------------------------
def bench_retrieval(
    retriever: Any, questions: Sequence[str], reps: int, refresh: bool = True
) -> tuple[Stages, list[float], list[float]]:
    """Per-stage retrieval timings, and raw Chroma query timings for the same query vectors (top-n with
    documents and metadata, as a plain Chroma user asks; and ids only, as the Retriever asks)."""
    n = retriever.settings.retrieval.candidates
    for q in questions[:3]:  # warm caches and the query path
        retriever.retrieve(q)
    stages = Stages()
    raw_full: list[float] = []
    raw_ids: list[float] = []
    coll = retriever.store._sent
    for _ in range(reps):
        for q in questions:
            if refresh:
                retriever.refresh()
            stages.add(retriever.retrieve(q).timings)
            qvec = retriever.embedder.embed([q])[0]
            t0 = time.perf_counter()
            coll.query(query_embeddings=[qvec], n_results=n, include=["metadatas", "documents", "distances"])
            t1 = time.perf_counter()
            coll.query(query_embeddings=[qvec], n_results=n, include=["distances"])
            t2 = time.perf_counter()
            raw_full.append((t1 - t0) * 1e3)
            raw_ids.append((t2 - t1) * 1e3)
    return stages, raw_full, raw_ids


def recall(
    retriever: Any, gold: Sequence[tuple[str, tuple[tuple[str, str], ...]]], k: int
) -> tuple[int, int]:
    """Answerable questions whose gold evidence sentence is among the first k fused hits."""
    found = total = 0
    for q, ev in gold:
        if not ev:
            continue
        total += 1
        hits = retriever.retrieve(q).hits[:k]
        found += any(h.sentence.file == f and c in h.sentence.text for h in hits for f, c in ev)
    return found, total


def replica_load(settings: Any, questions: Sequence[str]) -> dict[str, float]:
    """What a `qa serve` replica pays to load the Retriever on an index whose reader files exist (a
    restart, another replica on the data dir, any load after the first), in a fresh process so that its
    resident memory is its own. Chroma is opened first (a Store: embedded Chroma loads its HNSW index of
    every vector then; with a Chroma server that lives in the server), so `load_mb` is what the Retriever
    holds on top of it, as the in-process figure was measured before; `chroma_mb` is Chroma's."""
    code = (
        "import json, sys, time\n"
        "from tests.bench import proc_mb\n"
        "from index.embed import make_embedder\n"
        "from qa.settings import Settings\n"
        "from index.store import Store\n"
        "from qa.retrieve import Retriever\n"
        "a = json.loads(sys.argv[1])\n"
        "s = Settings(data_dir=a['data'], corpus_dir=a['corpus'], llm='llamacpp')\n"
        "emb = make_embedder(s.index, s.llm)\n"
        "emb.embed(['warm up'])\n"
        "rss0 = proc_mb()\n"
        "store = Store(s.index, emb.name, emb.dim)\n"
        "rss1 = proc_mb(); t0 = time.perf_counter()\n"
        "r = Retriever(s, emb)\n"
        "load_s = time.perf_counter() - t0; rss2 = proc_mb()\n"
        "for q in a['questions']:\n"
        "    r.retrieve(q)\n"
        "print(json.dumps({'load_s': load_s, 'chroma_mb': rss1 - rss0, 'load_mb': rss2 - rss1,\n"
        "                  'queried_mb': proc_mb() - rss1}))\n"
    )
    arg = {
        "data": str(settings.index.data_dir),
        "corpus": str(settings.index.corpus_dir),
        "questions": list(questions),
    }
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(arg)], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    if out.returncode != 0:
        log(f"replica load failed: {out.stderr[-2000:]}")
        return dict.fromkeys(("load_s", "chroma_mb", "load_mb", "queried_mb"), float("nan"))
    return {k: float(v) for k, v in json.loads(out.stdout.strip().splitlines()[-1]).items()}


# ---- synthetic corpus --------------------------------------------------------------------------------
def build_synthetic(
    rep: Report, settings: Any, folder: Path, bases: list[str], base_vecs: np.ndarray, records: int
) -> dict[str, float]:
    """Seeds indexed for real, then `records` synthetic records inserted straight into the store."""
    from index.build import index_corpus
    from index.embed import make_embedder
    from index.store import Store, writer_lock
    from tests import synthetic

    folder.mkdir(parents=True)
    for p in SEEDS.glob("*.txt"):
        shutil.copy(p, folder / p.name)
    index_corpus(settings.index, corpus_dir=folder)
    emb = make_embedder(settings.index, settings.llm)
    t0 = time.perf_counter()
    with writer_lock(settings.index):  # as `qa index` writes: the writer's lock and the writer's store
        store = Store(settings.index, emb.name, emb.dim, create=True)
        n_articles, n_records = synthetic.write_corpus(
            folder, synthetic.articles(bases, base_vecs, records), store.put_articles
        )
        del store
    insert_s = time.perf_counter() - t0
    log(f"synthetic: {n_records} records in {n_articles} articles inserted in {insert_s:.0f}s")
    t0 = time.perf_counter()
    warm = index_corpus(settings.index, corpus_dir=folder)
    warm_s = time.perf_counter() - t0
    assert warm.sentences_embedded == 0 and not warm.added and not warm.updated, warm.summary()
    return {
        "articles": n_articles,
        "records": n_records,
        "insert_s": insert_s,
        "warm_reindex_s": warm_s,
        "unchanged": len(warm.unchanged),
    }


# ---- answers -----------------------------------------------------------------------------------------
class PromptKeeper:
    """Passes everything to the real LLM and keeps the last prompt, to count its tokens."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.last: tuple[str, str] = ("", "")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def stream(self, system: str, user: str, max_tokens: int) -> Iterator[str]:
        self.last = (system, user)
        return self.inner.stream(system, user, max_tokens)


def overhead(timings: dict[str, float]) -> float:
    """Everything but the model's prefill and decode, in ms."""
    return timings["total_ms"] - timings.get("prefill_ms", 0.0) - timings.get("decode_ms", 0.0)


def serve_first_answer(cli_data: Path, question: str, limit_s: float = 180.0) -> dict[str, Any]:
    """Start `qa serve` on a free port and POST /api/ask until it answers; SIGTERM it afterwards."""
    import httpx

    server_log = cli_data.parent / "serve.log"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    url = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    with server_log.open("wb") as sink:
        proc = subprocess.Popen(
            [str(BIN / "qa"), "serve", "--port", str(port)],
            env=env_for_children(cli_data),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    out: dict[str, Any] = {}
    try:
        while time.perf_counter() - t0 < limit_s:  # listening: any answer from a page that builds nothing
            if proc.poll() is not None:
                err = server_log.read_text("utf-8", "replace")[-500:]
                raise RuntimeError(f"qa serve exited with {proc.returncode}: {err}")
            try:
                httpx.get(f"{url}/docs", timeout=5)
                out["listening_s"] = time.perf_counter() - t0
                break
            except httpx.TransportError:
                time.sleep(0.05)
        while time.perf_counter() - t0 < limit_s:
            r = httpx.post(f"{url}/api/ask", json={"question": question}, timeout=limit_s)
            if r.status_code == 200:
                out["first_answer_s"] = time.perf_counter() - t0
                out["answer"] = r.json()
                break
            out["last_status"] = r.status_code  # 503 while the index or model is still loading
            time.sleep(0.1)
        try:
            out["health"] = httpx.get(f"{url}/api/health", timeout=60).status_code
        except httpx.HTTPError as e:
            out["health"] = f"{type(e).__name__}"
        out["peak_mb"] = proc_mb(proc.pid, "VmHWM")
    finally:
        stop_process(proc)
    return out


# ---- main --------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    """Run every measurement and print the report."""
    ap = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000, help="synthetic records (default 100000)")
    ap.add_argument("--bases", type=int, default=2000, help="distinct embedded base sentences")
    ap.add_argument("--reps", type=int, default=3, help="passes over the questions for retrieval")
    ap.add_argument("--answers", type=int, default=12, help="questions answered end to end")
    ap.add_argument("--cold-pairs", type=int, default=4, help="answers repeated after a KV-cache reset")
    ap.add_argument(
        "--baseline-answers", type=int, default=2, help="questions the LlamaIndex baseline answers"
    )
    ap.add_argument("--out", type=Path, help="also write the report to this file")
    args = ap.parse_args(argv)
    for k, v in env_for_children(Path()).items():
        if not k.startswith("QA_"):
            os.environ.setdefault(k, v)

    t_start = time.perf_counter()
    load0 = os.getloadavg()
    rep = Report()
    tmp = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    try:
        serve_mb = run(rep, tmp, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    total_s = time.perf_counter() - t_start
    rep.target("`make bench` wall time", "≤ 15 min", f"{total_s / 60:.1f} min", total_s <= 900)

    rep.targets_table()
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rep(
        f"Peak memory (ru_maxrss) of this process: {self_mb:.0f} MB (it holds the seeds, the "
        f"{args.records:,}-record corpus, the model and the LlamaIndex baseline). "
        f"`qa serve` after its first answer (VmHWM): {serve_mb:.0f} MB."
    )
    rep.load_span(load0)
    if args.out:
        args.out.write_text("\n".join(rep.lines) + "\n", "utf-8")
    return 0


def run(rep: Report, tmp: Path, args: argparse.Namespace) -> float:
    """The measurements, in an order that keeps the model's prefix cache meaningful. Returns the peak
    memory of `qa serve` in MB."""
    import chromadb
    import onnxruntime

    from index.embed import make_embedder
    from qa.settings import Settings

    rep("# Benchmark")
    rep()
    rep(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, chromadb {chromadb.__version__}, "
        f"onnxruntime {onnxruntime.__version__}, "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}. Times in ms as p50 / p95 "
        "unless marked."
    )
    rep()

    # -- indexing (fresh processes) --
    cli_data = tmp / "cli-data"
    log("indexing the seeds with `qa index` (cold, then warm)")
    idx = bench_indexing(rep, cli_data)

    seed_data = tmp / "seed-data"
    settings = Settings(data_dir=seed_data, corpus_dir=SEEDS, llm="llamacpp")
    from index.build import index_corpus

    index_corpus(settings.index)
    t0 = time.perf_counter()
    warm = index_corpus(settings.index)
    warm_inproc = time.perf_counter() - t0
    assert warm.sentences_embedded == 0

    # -- embedding throughput on the synthetic corpus's base sentences --
    from index.build import evidence_sentences
    from tests import synthetic

    seed_texts = [
        s.text
        for p in sorted(SEEDS.glob("*.txt"))
        for s in evidence_sentences(p.name, p.read_text(), MAX_CHARS)[0]
    ]
    bases = synthetic.base_sentences(seed_texts, args.bases)
    emb = make_embedder(settings.index, settings.llm)
    emb.embed(bases[:32])
    log(f"embedding {len(bases)} distinct base sentences")
    t0 = time.perf_counter()
    base_vecs = emb.embed(bases)
    embed_s = time.perf_counter() - t0
    per_s = len(bases) / embed_s
    avg_chars = sum(map(len, bases)) / len(bases)

    rep("## Indexing and embedding")
    rep()
    rep.table(
        ["what", "time"],
        [
            (
                "cold `qa index` of the seeds (fresh process: imports, model load, 112 sentences)",
                f"{idx['cold_wall']:.1f} s wall ({idx['cold_reported']:.1f} s inside index_corpus)",
            ),
            (
                "warm `qa index`, unchanged seeds (fresh process)",
                f"{idx['warm_wall']:.1f} s wall ({idx['warm_reported']:.2f} s inside index_corpus)",
            ),
            (
                "warm re-index, unchanged seeds, `index_corpus()` in a running process",
                f"{warm_inproc * 1e3:.0f} ms",
            ),
            (
                f"embedding throughput ({emb.name}, {len(bases)} distinct sentences, "
                f"avg {avg_chars:.0f} chars)",
                f"{per_s:.0f} sentences/s",
            ),
        ],
    )
    rep.target(
        "warm re-index of an unchanged corpus", "≤ 1 s", f"{warm_inproc * 1e3:.0f} ms", warm_inproc <= 1.0
    )
    rep.target("embedding throughput", "≥ 300 sentences/s", f"{per_s:.0f} /s", per_s >= 300)

    # -- reading other formats --
    log("reading HTML, PDF, Word and Markdown versions of the seeds")
    bench_extraction(rep, tmp)

    # -- retrieval on the seeds --
    from qa.retrieve import Retriever

    gold = seed_questions()
    questions = [q for q, _ in gold]
    keys = ["embed_ms", "dense_ms", "bm25_ms", "fuse_ms", "retrieve_ms", "refresh_ms"]
    retriever = Retriever(settings, emb)
    log(f"retrieval on the seeds: {len(questions)} questions × {args.reps}")
    seed_stages, seed_raw, seed_raw_ids = bench_retrieval(retriever, questions, args.reps)
    seed_recall = recall(retriever, gold, 5)

    # -- retrieval on the synthetic corpus --
    syn_settings = Settings(data_dir=tmp / "syn-data", corpus_dir=tmp / "syn-corpus", llm="llamacpp")
    log(f"building the synthetic corpus: {args.records} records")
    syn = build_synthetic(rep, syn_settings, tmp / "syn-corpus", bases, base_vecs, args.records)
    rss0 = proc_mb()
    t0 = time.perf_counter()
    big = Retriever(syn_settings, emb)
    big_load_s = time.perf_counter() - t0
    big_mb = proc_mb() - rss0
    log(f"retrieval at {len(big.sentences)} sentences (loaded in {big_load_s:.0f}s)")
    big_stages, big_raw, big_raw_ids = bench_retrieval(big, questions, max(1, args.reps - 1))
    big_recall = recall(big, gold, 5)
    n_big = len(big.sentences)
    del big
    log("a replica's Retriever load from the reader files, in a fresh process")
    replica = replica_load(syn_settings, questions)

    rep(f"## Retrieval ({len(questions)} questions from qa/eval/pairs.yaml; p50 / p95 ms)")
    rep()
    rep.table(
        [
            "corpus",
            "query embedding",
            "dense (Chroma)",
            "BM25",
            "fusion",
            "**retrieval**",
            "index-changed check",
            "raw Chroma top-30 (docs+metadata)",
            "raw Chroma top-30 (ids)",
        ],
        [
            seed_stages.row(f"seeds ({len(retriever.sentences)} sentences)", keys)
            + [
                f"{ms(pct(seed_raw, 50))} / {ms(pct(seed_raw, 95))}",
                f"{ms(pct(seed_raw_ids, 50))} / {ms(pct(seed_raw_ids, 95))}",
            ],
            big_stages.row(f"synthetic ({n_big:,} sentences, {syn['articles']:,} articles)", keys)
            + [
                f"{ms(pct(big_raw, 50))} / {ms(pct(big_raw, 95))}",
                f"{ms(pct(big_raw_ids, 50))} / {ms(pct(big_raw_ids, 95))}",
            ],
        ],
    )
    rep(load_note())
    rep()
    rep(
        f"Gold evidence sentence among the first 5 fused hits: seeds {seed_recall[0]}/{seed_recall[1]}, "
        f"with the {args.records:,} synthetic records added {big_recall[0]}/{big_recall[1]}."
    )
    rep()
    rep(
        f"Synthetic corpus: {syn['records']:,} records in {syn['articles']:,} articles from "
        f"{len(bases):,} embedded base sentences (tests/synthetic.py), inserted with "
        f"`Store.put_articles` in {syn['insert_s']:.0f} s "
        f"({syn['records'] / syn['insert_s']:.0f} records/s); warm re-index of all "
        f"{syn['unchanged']:,} unchanged articles "
        f"(`index_corpus`, 0 embedded) {syn['warm_reindex_s']:.1f} s."
    )
    rep()
    rep(
        f"Retriever at {n_big:,} sentences: the first load after the index was written (reads every "
        f"committed sentence and vector from Chroma, writes the memory-mapped reader files and the BM25 "
        f"index; `qa index` does this itself after its commit (it loads a Retriever once), so no server pays "
        f"it) {big_load_s:.1f} s, holding {big_mb:.0f} MB more resident memory after it; a replica "
        f"(every `qa serve` or `qa ask` after `qa index`) loading from those files (a fresh process) "
        f"{replica['load_s']:.2f} s, holding "
        f"{replica['load_mb']:.0f} MB ({replica['queried_mb']:.0f} MB after {len(questions)} questions) on "
        f"top of the {replica['chroma_mb']:.0f} MB that opening embedded Chroma costs (its HNSW index of "
        "the vectors; with a Chroma server that is in the server)."
    )
    rep()
    rep.target(
        f"replica's Retriever load at {n_big:,} sentences (reader files exist)",
        "≤ 5 s",
        f"{replica['load_s']:.2f} s",
        replica["load_s"] <= 5,
    )
    rep.target(
        f"resident memory a replica's Retriever adds at {n_big:,} sentences",
        "≤ 150 MB",
        f"{replica['load_mb']:.0f} MB",
        replica["load_mb"] <= 150,
    )
    seed_p50 = pct(seed_stages.samples["retrieve_ms"], 50)
    big_p50 = pct(big_stages.samples["retrieve_ms"], 50)
    rep.target("retrieval p50, seeds", "≤ 15 ms", f"{ms(seed_p50)} ms", seed_p50 <= 15)
    rep.target(f"retrieval p50, {n_big:,} sentences", "≤ 60 ms", f"{ms(big_p50)} ms", big_p50 <= 60)

    # -- answers end to end --
    from qa.llm import make_llm
    from qa.pipeline import Pipeline

    llm, _ = make_llm(settings)
    recording = PromptKeeper(llm)
    # The model's path, measured stage by stage: with the embedded default the model never runs.
    refining = settings.replaced(refine="always")
    pipeline = Pipeline(refining, llm=recording, retriever=retriever)  # type: ignore[arg-type]
    answer_qs = [q for q, ev in gold if ev][: args.answers - 3] + [q for q, ev in gold if not ev][:3]
    log(f"answering {len(answer_qs)} questions end to end")

    for q0 in answer_qs:  # the first question that reaches the model (the gate may refuse one before)
        first = pipeline.ask(q0)
        if "prefill_ms" in first.timings:
            break
    system, user = recording.last
    t_sys = llm.count_tokens(system)
    t_all = t_sys + llm.count_tokens(user)
    repeat = pipeline.ask(q0)

    # Each question follows another one, so its prompt shares only the fixed instruction with what the
    # model saw last. For the first `--cold-pairs` that reach the model, the same question is asked again
    # right away after a cache reset: two adjacent calls, with and without the cached prefix.
    stages = Stages()
    answered: list[tuple[str, dict[str, float]]] = []
    cold_prefill: list[float] = []
    warm_prefill: list[float] = []
    last = q0
    for q in answer_qs:
        a = pipeline.ask(q)
        stages.add({**a.timings, "overhead_ms": overhead(a.timings)})
        answered.append((q, a.timings))
        follows_another, last = q != last, q
        if "prefill_ms" in a.timings and follows_another and len(cold_prefill) < args.cold_pairs:
            llm._llm.reset()  # forget the KV cache: the next prefill pays for the whole prompt again
            cold_prefill.append(pipeline.ask(q).timings["prefill_ms"])
            warm_prefill.append(a.timings["prefill_ms"])
    with_llm = [t for _, t in answered if "prefill_ms" in t]
    missing = [
        q
        for q, t in answered
        if not {"retrieve_ms", "prefill_ms", "decode_ms", "verify_ms", "total_ms"} <= set(t)
    ]
    total = sum(t["total_ms"] for _, t in answered)
    over = sum(overhead(t) for _, t in answered)
    over_llm = sum(overhead(t) for t in with_llm) / max(1e-9, sum(t["total_ms"] for t in with_llm))

    rep(
        f"## Answers end to end with the model (seeds, QA_REFINE=always, {llm.backend}:{llm.name}, "
        f"{len(answer_qs)} questions; p50 / p95 ms)"
    )
    rep()
    ekeys = ["retrieve_ms", "prompt_ms", "prefill_ms", "decode_ms", "verify_ms", "overhead_ms", "total_ms"]
    rep.table(
        [
            "",
            "retrieve",
            "prompt build",
            "LLM prefill",
            "LLM decode",
            "verify",
            "overhead (all but LLM)",
            "total",
        ],
        [stages.row("per answer", ekeys)],
    )
    rep(
        "Overhead ratio (everything but prefill and decode, over the total): "
        f"{100 * over / total:.1f} % over all {len(answered)} answers "
        f"({len(answered) - len(with_llm)} refused before the model ran); "
        f"{100 * over_llm:.1f} % over the {len(with_llm)} that ran the model."
    )
    rep()
    rep(
        f"Answers whose timings lack one of retrieve/prefill/decode/verify/total_ms: {len(missing)}"
        + (f" (refused before the model ran: {'; '.join(missing)})" if missing else "")
        + "."
    )
    rep()
    rep(load_note())
    rep()
    rate = t_all / (first.timings["prefill_ms"] / 1e3)
    rep("Prefix cache (llama.cpp reuses the KV cache of the longest shared prompt prefix):")
    rep()
    rep.table(
        ["call", "prefill ms"],
        [
            (
                f"first call, fresh model (≈{t_all} prompt tokens, {t_sys} of them the fixed instruction)",
                ms(first.timings["prefill_ms"]),
            ),
            ("the same question repeated", ms(repeat.timings["prefill_ms"])),
            (
                f"a different question after another (p50 of the {len(warm_prefill)} paired calls)",
                ms(pct(warm_prefill, 50)),
            ),
            ("the same questions, each right after a cache reset (p50)", ms(pct(cold_prefill, 50))),
        ],
    )
    saved = [(c - w) / c for c, w in zip(cold_prefill, warm_prefill, strict=True) if c > 0]
    rep(
        f"Measured prefill rate on the first call ≈ {rate:.0f} tokens/s. The cached instruction saves "
        f"{100 * pct(saved, 50):.0f} % of a new question's prefill (median of the pairs; its share of the "
        f"prompt is {100 * t_sys / t_all:.0f} %)."
    )
    rep()
    share = (t_all - t_sys) / t_all
    rep.target(
        "overhead (all but prefill+decode) / total",
        "≤ 5 %",
        f"{100 * over / total:.1f} %",
        over / total <= 0.05,
    )
    rep.target(
        "repeated question pays no prefill for the fixed prefix",
        f"repeat < first × {share:.2f} (the non-prefix share)",
        f"{ms(repeat.timings['prefill_ms'])} vs {ms(first.timings['prefill_ms'])} ms",
        repeat.timings["prefill_ms"] < first.timings["prefill_ms"] * share,
    )

    # -- the plain LlamaIndex pipeline (after ours: its own system prompt replaces our cached prefix) --
    from llama_index.core.schema import QueryBundle

    from index.corpus import load_corpus
    from qa.eval.baseline import BaselinePipeline

    log("LlamaIndex baseline")
    t0 = time.perf_counter()
    base = BaselinePipeline(settings, load_corpus(SEEDS)[0], llm=llm, embedder=emb)
    base_build = time.perf_counter() - t0
    base_ret: list[float] = []
    for _ in range(args.reps):
        for q in questions:
            t0 = time.perf_counter()
            base._engine.retrieve(QueryBundle(q))
            base_ret.append((time.perf_counter() - t0) * 1e3)
    base_qs = [q for q, t in answered if "prefill_ms" in t][: args.baseline_answers]
    base_total = [base.ask(q).timings["total_ms"] for q in base_qs]
    ours_total = [t["total_ms"] for q, t in answered if q in base_qs]
    ours_ret = pct(seed_stages.samples["retrieve_ms"], 50)

    rep("## Against raw Chroma and the plain LlamaIndex pipeline (seeds)")
    rep()
    rep.table(
        ["", "ours", "comparison", "ours / comparison"],
        [
            (
                "retrieval p50 vs raw Chroma top-30 query (docs+metadata)",
                f"{ms(ours_ret)} ms",
                f"{ms(pct(seed_raw, 50))} ms",
                f"{ours_ret / pct(seed_raw, 50):.1f}×",
            ),
            (
                "retrieval p50 vs LlamaIndex VectorStoreIndex retriever (top-2)",
                f"{ms(ours_ret)} ms",
                f"{ms(pct(base_ret, 50))} ms",
                f"{ours_ret / pct(base_ret, 50):.2f}×",
            ),
            (
                f"answer p50, same {len(base_qs)} questions, vs LlamaIndex CitationQueryEngine",
                f"{pct(ours_total, 50) / 1e3:.1f} s",
                f"{pct(base_total, 50) / 1e3:.1f} s",
                f"{pct(ours_total, 50) / pct(base_total, 50):.2f}×",
            ),
        ],
    )
    rep(
        f"LlamaIndex baseline built (chunk + embed the 5 articles) in {base_build:.1f} s "
        "(qa/eval/baseline.py)."
    )
    rep()
    del base

    # -- answer at once: the first verified claim, and answers per second under load --
    from tests import bench_instant

    bench_instant.run(rep, seed_data, tmp, [q for q, ev in gold if ev], args.answers)

    # -- adding an article through the API while the server answers --
    from tests import bench_documents

    bench_documents.run(rep, tmp)

    # -- qa serve to the first answer --
    log("`qa serve` to the first answered POST /api/ask")
    served = serve_first_answer(cli_data, q0)  # a question that reaches the model
    first_s = served.get("first_answer_s")

    api_t = (served.get("answer") or {}).get("timings", {})
    rep("## `qa serve` to the first answer")
    rep()
    rep.table(
        ["", ""],
        [
            (
                "`qa serve` started → HTTP answers (GET /docs)",
                f"{served.get('listening_s', float('nan')):.1f} s",
            ),
            (
                "`qa serve` started → first POST /api/ask answered",
                f"{first_s:.1f} s" if first_s else "no answer",
            ),
            (
                "that answer's own timings (total / retrieve / prefill / decode / verify ms)",
                " / ".join(
                    ms(api_t[k]) if k in api_t else "–"
                    for k in ("total_ms", "retrieve_ms", "prefill_ms", "decode_ms", "verify_ms")
                ),
            ),
        ],
    )
    rep.target(
        "first answer after `qa serve` starts",
        "≤ 10 s",
        f"{first_s:.1f} s" if first_s else "none",
        bool(first_s and first_s <= 10),
    )
    return float(served.get("peak_mb", float("nan")))


if __name__ == "__main__":
    sys.exit(main())
