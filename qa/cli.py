"""The `qa` command: index, ask, doctor, serve, eval; add, remove and documents (qa/cli_documents.py).
Errors are one line and exit code 1."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING

from index.errors import QAError
from qa.settings import Settings, load_settings

if TYPE_CHECKING:
    from index.build import IndexReport
    from qa.retrieve import Retriever


def _settings(args: argparse.Namespace) -> Settings:
    s = load_settings()
    if getattr(args, "corpus", None):
        s = s.replaced(corpus_dir=Path(args.corpus))
    return s


def _quiet_libraries() -> None:
    # No telemetry, no hub lookups, no tokenizer fork warnings: set before any of those libraries import.
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    for noisy in ("chromadb", "httpx", "bm25s", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def cmd_index(args: argparse.Namespace) -> int:
    s = _settings(args)
    report, _ = _index(s, rebuild=args.rebuild, progress=sys.stderr.isatty())
    print(report.summary())
    return 0


def _index(s: Settings, rebuild: bool = False, progress: bool = False) -> tuple[IndexReport, Retriever]:
    """Bring the index in line with the corpus (incremental: unchanged files cost nothing), then load it
    once: that writes the readers' files and the BM25 index now, by the writer, so the first `qa serve`
    after `qa index` loads in seconds instead of building them (~25 s per 100k sentences)."""
    from index.build import index_corpus
    from qa.retrieve import Retriever

    report = index_corpus(s.index, rebuild=rebuild, progress=progress, ollama=s.llm)
    for sk in report.skipped:
        print(f"warning: skipped {sk.file}: {sk.reason}", file=sys.stderr)
    t0 = time.perf_counter()
    retriever = Retriever(s)
    if progress:
        print(f"prepared the index for readers in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return report, retriever


def format_answer(answer: object) -> str:
    """Human-readable answer: the text, then one footnote per citation with file, sentence and quote."""
    from qa.present import footnote_head
    from qa.types import Answer

    assert isinstance(answer, Answer)
    lines = [textwrap.fill(answer.answer, 100)]
    if answer.refused:
        reason = answer.notes[0] if answer.notes else ""
        lines.append(f"(refused: {reason})" if reason else "(refused)")
        return "\n".join(lines)
    lines.append("")
    for k, c in enumerate(answer.citations, 1):
        lines.append(footnote_head(k, c))
        lines.append(textwrap.fill(f"“{c.quote}”", 100, initial_indent="    ", subsequent_indent="    "))
    lines.append("")
    sure = f", confidence {answer.confidence:.2f}" if answer.confidence is not None else ""
    lines.append(f"({answer.model}, {answer.mode}{sure}, {answer.timings.get('total_ms', 0) / 1000:.1f}s)")
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace) -> int:
    from qa.inputs import clean_question
    from qa.pipeline import Pipeline

    s = _settings(args)
    question = clean_question(" ".join(args.question), s)  # bad input fails before anything loads
    retriever = _index(s)[1] if args.corpus else None  # `qa ask --corpus DIR` indexes DIR first
    pipeline = Pipeline(s, retriever=retriever)
    if not args.json:
        print(f"using {pipeline.model_label} ({pipeline.choice.reason})", file=sys.stderr)
    answer = pipeline.ask(question)
    if args.json:
        print(json.dumps(answer.model_dump(exclude={"extra"}), ensure_ascii=False))
    else:
        print(format_answer(answer))
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from index.embed import make_embedder
    from index.store import Store
    from qa.llm import choose_backend, default_gguf, probe_ollama

    s = _settings(args)
    print(f"data dir:      {s.index.data_dir}")
    print(f"corpus dir:    {s.index.corpus_dir}")
    print(f"store:         {s.index.chroma_url or 'on disk (' + str(s.index.data_dir / 'chroma') + ')'}")
    try:
        emb = make_embedder(s.index, s.llm)
        store = Store(s.index, emb.name, emb.dim)
        manifest = store.manifest()
        print(
            f"index:         {len(manifest)} article(s), {store.count()} sentence(s), "
            f"{emb.name} ({emb.dim}-d)"
        )
    except QAError as e:
        print(f"index:         {e}")
    probe = probe_ollama(s)
    if probe.reachable:
        print(
            f"ollama:        reachable at {probe.host} (version {probe.version or '?'}); "
            f"models: {', '.join(probe.models) or 'none'}"
        )
    else:
        print(f"ollama:        {probe.error}")
    try:
        gguf = str(s.llm.gguf_path or default_gguf())
    except QAError as e:
        gguf = str(e)
    print(f"embedded:      {gguf}")
    try:
        choice = choose_backend(s, probe)
        print(f"backend:       {choice.backend} ({choice.reason})")
    except QAError as e:
        print(f"backend:       QA_LLM={s.llm.backend} cannot be used: {e}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from qa.api.app import serve

    serve(_settings(args), host=args.host, port=args.port)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from qa.eval.run import main as eval_main

    return eval_main(args, _settings(args))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    p = argparse.ArgumentParser(prog="qa", description="Questions over your articles, every claim cited.")
    sub = p.add_subparsers(dest="command", required=True)
    pi = sub.add_parser("index", help="index the corpus folder (incremental)")
    pi.add_argument("--corpus", help="folder of .txt articles (default: QA_CORPUS_DIR or seeds/)")
    pi.add_argument("--rebuild", action="store_true", help="delete the index and start over")
    pi.set_defaults(func=cmd_index)
    pa = sub.add_parser("ask", help="ask a question")
    pa.add_argument("question", nargs="+")
    pa.add_argument("--json", action="store_true", help="print one JSON object")
    pa.add_argument("--corpus", help="index this folder first, then answer from it")
    pa.set_defaults(func=cmd_ask)
    pd = sub.add_parser("doctor", help="show backend, model, index and Ollama status")
    pd.set_defaults(func=cmd_doctor)
    ps = sub.add_parser("serve", help="serve the chat UI and HTTP API")
    ps.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    ps.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    ps.set_defaults(func=cmd_serve)
    pe = sub.add_parser("eval", help="run the fixed Q&A pairs and report metrics")
    pe.add_argument(
        "--pairs",
        help="shipped-style YAML/JSON pairs or a SQuAD-style questions.json (default: the shipped pairs)",
    )
    pe.add_argument(
        "--corpus",
        help="corpus folder (default: the corpus/ folder beside --pairs if there is one, else seeds/)",
    )
    pe.add_argument(
        "--set",
        help="an evaluation set: a name under qa/eval/sets (e.g. squad2-rhine) or a folder with "
        "questions.json and corpus/",
    )
    pe.add_argument("--out", default="eval-out", help="folder for results.json, report.md, chart.png")
    pe.add_argument(
        "--pipeline",
        default="ours",
        help="ours, standin (ours answered by the capable-model stand-in), extractive (no-model floor), "
        "baseline (LlamaIndex), comma-separated, or both (ours,baseline) or all (default: %(default)s)",
    )
    pe.add_argument("--limit", type=int, default=None, help="only the first N pairs")
    pe.add_argument("--sample", type=int, default=None, help="a stratified sample of N pairs (see --seed)")
    pe.add_argument("--seed", type=int, default=1, help="seed of --sample (default: %(default)s)")
    pe.add_argument(
        "--baseline-sample",
        type=int,
        default=None,
        help="run the slow baseline on a sample of N of the pairs",
    )
    pe.add_argument("--standin-seed", type=int, default=1, help="seed of the stand-in's modes (default: 1)")
    pe.add_argument(
        "--standin-mix",
        default=None,
        help="weights of the stand-in's modes, answerable;unanswerable "
        "(default: gold=4,wrong_marker=2,wrong_answer=2,cannot=2;plausible=7,cannot=3)",
    )
    pe.set_defaults(func=cmd_eval)
    from qa.cli_documents import add_parsers

    add_parsers(sub, _settings)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `qa` console script."""
    _quiet_libraries()
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except QAError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
