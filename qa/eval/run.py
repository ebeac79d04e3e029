"""`qa eval`: index the corpus, ask every pair through the real pipeline(s), score, print, write files.

Our pipeline is asked through `Pipeline.ask`, the code path the API and CLI use. The evaluation keeps its
own index under `<data_dir>/eval` (incremental across runs), so evaluating never rewrites the index a user
asks questions of.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from index.errors import QAError
from index.settings import Settings
from qa.eval.metrics import Sources, check_floors, score_record, summarize
from qa.eval.pairs import Pair, default_pairs_path, load_pairs, select
from qa.eval.report import format_table, misses, write_chart, write_markdown
from qa.types import Answer

PipelineName = Literal["ours", "baseline"]


def default_floors_path() -> Path:
    """The floors `make test` holds our pipeline to (qa/eval/floors.yaml)."""
    return Path(__file__).resolve().parent / "floors.yaml"


def load_floors(path: Path | None = None) -> dict[str, float]:
    """Metric → floor (a `max_` key is a ceiling)."""
    import yaml

    raw = yaml.safe_load((path or default_floors_path()).read_text(encoding="utf-8"))
    return {str(k): float(v) for k, v in (raw or {}).items()}


def eval_settings(settings: Settings) -> Settings:
    """The same settings with the index kept apart from the user's, under `<data_dir>/eval`."""
    return settings.model_copy(update={"data_dir": settings.data_dir / "eval"})


@dataclass
class EvalResult:
    """Scored records (one per pair per pipeline), a summary per pipeline, and run facts."""

    records: list[dict[str, Any]]
    summaries: dict[str, dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)


def make_record(pipeline: str, pair: Pair, answer: Answer | None, error: str | None) -> dict[str, Any]:
    """One results.json record: the pair, what the pipeline returned, and (later) its metrics."""
    rec: dict[str, Any] = {
        "pipeline": pipeline,
        "id": pair.id,
        "question": pair.question,
        "answerable": pair.answerable,
        "answers": list(pair.answers),
        "tags": list(pair.tags),
    }
    if answer is None:
        rec.update(
            answer="",
            refused=False,
            citations=[],
            timings={},
            retrieved=[],
            mode="",
            notes=[],
            error=error or "no answer",
        )
    else:
        rec.update(
            answer=answer.answer,
            refused=answer.refused,
            citations=[c.model_dump() for c in answer.citations],
            timings=dict(answer.timings),
            retrieved=list(answer.retrieved),
            mode=answer.mode,
            notes=list(answer.notes),
            error=None,
        )
    return rec


def run_pairs(
    name: str, ask: Callable[[str], Answer], pairs: Sequence[Pair], sources: Sources, progress: bool
) -> list[dict[str, Any]]:
    """Ask every pair; a failing pair is recorded with its error and the run goes on."""
    from tqdm import tqdm

    records: list[dict[str, Any]] = []
    for pair in tqdm(
        pairs, desc=f"eval {name}", unit="q", file=sys.stderr, disable=not progress, dynamic_ncols=True
    ):
        answer: Answer | None = None
        error: str | None = None
        try:
            answer = ask(pair.question)
        except QAError as e:
            error = str(e)
        except Exception as e:  # a crash in one pair must not throw away the others; it is reported
            error = f"{type(e).__name__}: {e}"
        rec = make_record(name, pair, answer, error)
        rec["metrics"] = score_record(pair, rec, sources)
        records.append(rec)
    return records


def evaluate(
    settings: Settings,
    pairs: Sequence[Pair],
    pipelines: Sequence[PipelineName] = ("ours",),
    progress: bool = False,
    log: Callable[[str], None] | None = None,
) -> EvalResult:
    """Index the corpus (incrementally, in the eval data dir), then run and score each pipeline."""
    from index.build import index_corpus
    from index.corpus import load_corpus
    from qa.answer import Pipeline

    say = log or (lambda _msg: None)
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    es = eval_settings(settings)
    report = index_corpus(es, progress=progress)
    say(report.summary())
    articles, _ = load_corpus(es.corpus_dir)
    sources = Sources({a.file: a.text for a in articles})
    records: list[dict[str, Any]] = []
    seconds: dict[str, float] = {}
    ours: Pipeline | None = None
    model = ""
    for name in pipelines:
        t0 = time.perf_counter()
        if name == "ours":
            ours = Pipeline(es)
            model = ours.model_label
            say(f"ours: {ours.model_label} ({ours.choice.reason})")
            records += run_pairs(name, ours.ask, pairs, sources, progress)
        else:
            from qa.eval.baseline import BaselinePipeline

            base = BaselinePipeline(es, articles, llm=ours.llm if ours else None)
            model = model or base.model_label
            say(f"baseline: LlamaIndex CitationQueryEngine with {base.model_label}")
            records += run_pairs(name, base.ask, pairs, sources, progress)
        seconds[name] = time.perf_counter() - t0
    summaries: dict[str, dict[str, Any]] = {
        str(name): summarize([r for r in records if r["pipeline"] == name]) for name in pipelines
    }
    meta = {
        "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "model": model,
        "embed": settings.embed,
        "corpus_dir": str(es.corpus_dir),
        "pairs": len(pairs),
        "seconds": seconds,
        "top_k": settings.top_k,
        # Latency depends on what else the machine runs: the 1-minute load average before and after.
        "load_average": [load_before, os.getloadavg()[0] if hasattr(os, "getloadavg") else None],
    }
    return EvalResult(records, summaries, meta)


def write_outputs(out: Path, result: EvalResult) -> dict[str, Path]:
    """results.json, report.md and chart.png in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"results": out / "results.json", "report": out / "report.md", "chart": out / "chart.png"}
    payload = {"meta": result.meta, "summaries": result.summaries, "records": result.records}
    paths["results"].write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    write_chart(paths["chart"], result.summaries)
    write_markdown(paths["report"], result.summaries, result.records, result.meta, paths["chart"].name)
    return paths


def main(args: argparse.Namespace, settings: Settings) -> int:
    """The `qa eval` command (arguments from qa/cli.py)."""
    pairs_path = Path(args.pairs) if args.pairs else default_pairs_path()
    all_pairs = load_pairs(pairs_path)
    pairs = select(all_pairs, args.limit)
    pipelines: list[PipelineName] = ["ours", "baseline"] if args.pipeline == "both" else [args.pipeline]

    def log(msg: str) -> None:
        print(msg, file=sys.stderr)

    t0 = time.perf_counter()
    result = evaluate(settings, pairs, pipelines, progress=True, log=log)
    result.meta["pairs_file"] = str(pairs_path)
    paths = write_outputs(Path(args.out), result)
    print(format_table(result.summaries))
    print()
    for name in pipelines:
        wrong = misses([r for r in result.records if r["pipeline"] == name])
        print(
            f"{name}: {len(wrong)} wrong answer(s) of {len(pairs)}"
            + (": " + ", ".join(r["id"] for r in wrong) if wrong else "")
        )
    if "ours" in result.summaries and pairs_path == default_pairs_path() and len(pairs) == len(all_pairs):
        failures = check_floors(result.summaries["ours"], load_floors())
        print("floors (qa/eval/floors.yaml): " + ("all met" if not failures else "; ".join(failures)))
    print(f"wrote {', '.join(str(p) for p in paths.values())} in {time.perf_counter() - t0:.0f}s")
    return 0
