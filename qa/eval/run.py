"""`qa eval`: index the corpus, ask every pair through the chosen pipelines, score, print, write files.

Pipelines, side by side in one table:

- `ours`: `Pipeline.ask`, the code path the API and CLI use, with the configured backend (QA_LLM);
- `standin`: ours through the `ollama` backend, answered by the capable-model stand-in (tests/standin.py,
  started in process on a free 127.0.0.1 port; it needs the project's tests/ folder);
- `extractive`: the no-model floor, the best-ranked retrieved sentence quoted (qa/eval/extractive.py);
- `baseline`: LlamaIndex's CitationQueryEngine with the same model and embeddings (qa/eval/baseline.py);
  slow, so it may run on a smaller sample of the same pairs (`--baseline-sample`).

A set's index lives apart from the user's and from other sets', under `<data_dir>/eval/<corpus>-<hash>`
(incremental across runs), so evaluating never rewrites the index a user asks questions of.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from index.errors import InputError, QAError
from qa.eval.citations import Sources
from qa.eval.metrics import check_floors, score_record, summarize
from qa.eval.pairs import Pair, check_spans, default_pairs_path, load_pairs, sample, select
from qa.eval.report import format_table, misses, write_chart, write_markdown
from qa.eval.standin import DEFAULT_MIX, Mix, Script, parse_mix
from qa.settings import Settings
from qa.types import Answer

PipelineName = Literal["ours", "standin", "extractive", "baseline"]
PIPELINES: tuple[PipelineName, ...] = ("ours", "standin", "extractive", "baseline")
ALIASES: dict[str, tuple[PipelineName, ...]] = {"both": ("ours", "baseline"), "all": PIPELINES}
SETS_DIR = Path(__file__).resolve().parent / "sets"
STANDIN_MODEL = "standin"


def default_floors_path() -> Path:
    """The floors `make test` holds our pipeline to (qa/eval/floors.yaml)."""
    return Path(__file__).resolve().parent / "floors.yaml"


def parse_pipelines(text: str) -> list[PipelineName]:
    """`ours`, `ours,extractive`, `both` (ours,baseline) or `all` (every pipeline), in the order given."""
    out: list[PipelineName] = []
    for part in (p.strip() for p in text.split(",")):
        names = ALIASES.get(part) or next(((n,) for n in PIPELINES if n == part), None)
        if not names:
            raise InputError(
                f"--pipeline {text!r}: {part!r} is not one of {', '.join(PIPELINES)}, both or all "
                "(several may be given, comma-separated)."
            )
        out += [n for n in names if n not in out]
    return out


def load_floors(path: Path | None = None) -> dict[str, float]:
    """Metric → floor (a `max_` key is a ceiling)."""
    import yaml

    raw = yaml.safe_load((path or default_floors_path()).read_text(encoding="utf-8"))
    return {str(k): float(v) for k, v in (raw or {}).items()}


def index_key(corpus_dir: Path) -> str:
    """The folder name of a corpus's evaluation index: readable, and unique per corpus path."""
    path = corpus_dir.resolve()
    name = f"{path.parent.name}-{path.name}" if path.name == "corpus" else path.name
    name = re.sub(r"[^\w.-]+", "_", name)[:60] or "corpus"
    return f"{name}-{hashlib.sha256(str(path).encode()).hexdigest()[:8]}"


def eval_settings(settings: Settings) -> Settings:
    """The same settings with the index kept apart from the user's and from other sets', under
    `<data_dir>/eval/<index_key(corpus_dir)>`."""
    return settings.replaced(data_dir=settings.index.data_dir / "eval" / index_key(settings.index.corpus_dir))


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
    if pair.file is not None:
        rec.update(file=pair.file, gold=list(pair.gold), spans=[list(s) for s in pair.spans])
        if pair.plausible:
            rec["plausible"] = list(pair.plausible)
    if answer is not None and isinstance(answer.extra.get("standin"), dict):
        rec["standin"] = answer.extra["standin"]
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
            conflicts=[c.model_dump() for c in answer.conflicts],
            timings=dict(answer.timings),
            retrieved=list(answer.retrieved),
            mode=answer.mode,
            confidence=answer.confidence,
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


def standin_server(script: Script, root: Path | None = None) -> Any:
    """The stand-in server (tests/standin.py under `root`, the source checkout), imported lazily: the
    product does not depend on tests/, and without it `--pipeline standin` says so."""
    root = root or Path(__file__).resolve().parents[2]
    if not (root / "tests" / "standin.py").is_file():
        raise InputError(
            f"--pipeline standin needs the project's tests/ folder ({root / 'tests' / 'standin.py'} is "
            "missing): run qa eval from a source checkout of cited-qa."
        )
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    import importlib

    try:  # imported by name: the product does not depend on tests/, and its type checks do not cover it
        server_cls = importlib.import_module("tests.standin").StandinServer
    except (ImportError, AttributeError) as e:
        raise InputError(
            f"--pipeline standin could not import tests/standin.py from {root} ({e}): another package named "
            "`tests` may shadow the project's; run qa eval from the repository root."
        ) from e
    return server_cls(script)


@contextmanager
def _standin_ask(
    es: Settings, pairs: Sequence[Pair], retriever: Any, seed: int, mix: Mix
) -> Iterator[tuple[Callable[[str], Answer], str]]:
    """An `ask` for our pipeline answered by the stand-in; each Answer carries the stand-in's log entry for
    its question in `extra["standin"]` (`{"mode": planned}` alone when the model was not asked)."""
    from qa.llm import make_llm
    from qa.pipeline import Pipeline

    script = Script.from_pairs(pairs, seed=seed, mix=mix)
    with standin_server(script) as server:
        st = es.replaced(llm="ollama", ollama_host=server.url, ollama_model=STANDIN_MODEL)
        llm, choice = make_llm(st)
        pipe = Pipeline(st, llm=llm, retriever=retriever, choice=choice)

        def ask(question: str) -> Answer:
            server.take_log()
            answer = pipe.ask(question)
            log = server.take_log()
            entry = script.lookup(question)
            info: dict[str, Any] = log[-1] if log else {"played": None, "reply": None}
            if entry is not None:
                info = {"id": entry.id, "mode": script.mode(entry)} | info
            answer.extra["standin"] = info
            return answer

        yield ask, pipe.model_label


@dataclass
class EvalOptions:
    """How `evaluate` runs: which pipeline sees which pairs, and the stand-in's policy."""

    subsets: Mapping[str, Sequence[Pair]] = field(default_factory=dict)  # pipeline → its pairs (a sample)
    standin_seed: int = 1
    standin_mix: Mix = DEFAULT_MIX


def evaluate(
    settings: Settings,
    pairs: Sequence[Pair],
    pipelines: Sequence[PipelineName] = ("ours",),
    progress: bool = False,
    log: Callable[[str], None] | None = None,
    options: EvalOptions | None = None,
) -> EvalResult:
    """Index the corpus (incrementally, in the set's eval data dir), then run and score each pipeline."""
    from index.build import index_corpus
    from index.corpus import load_corpus
    from qa.retrieve import Retriever

    opts = options or EvalOptions()
    say = log or (lambda _msg: None)
    started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    es = eval_settings(settings)
    report = index_corpus(es.index, progress=progress, ollama=es.llm)
    say(report.summary())
    articles, _ = load_corpus(es.index.corpus_dir)
    texts = {a.file: a.text for a in articles}
    problems = check_spans(pairs, texts)
    if problems:
        raise InputError(
            f"{len(problems)} question(s) do not match the corpus {es.index.corpus_dir} (is --corpus the "
            f"set's corpus folder?): " + "; ".join(problems[:3])
        )
    sources = Sources(texts, es.index.max_sentence_chars)
    retriever = Retriever(es)
    records: list[dict[str, Any]] = []
    seconds: dict[str, float] = {}
    asked: dict[str, int] = {}
    models: dict[str, str] = {}
    ours: Any = None
    for name in pipelines:
        t0 = time.perf_counter()
        subset = list(opts.subsets.get(name, pairs))
        asked[name] = len(subset)
        if name == "ours":
            from qa.pipeline import Pipeline

            ours = Pipeline(es, retriever=retriever)
            models[name] = ours.model_label
            say(f"ours: {ours.model_label} ({ours.choice.reason})")
            records += run_pairs(name, ours.ask, subset, sources, progress)
        elif name == "standin":
            with _standin_ask(es, pairs, retriever, opts.standin_seed, opts.standin_mix) as (ask, label):
                models[name] = label
                say(f"standin: ours with the stand-in (seed {opts.standin_seed}, mix {opts.standin_mix})")
                records += run_pairs(name, ask, subset, sources, progress)
        elif name == "extractive":
            from qa.eval.extractive import ExtractivePipeline

            floor = ExtractivePipeline(es, retriever=retriever)
            models[name] = floor.model_label
            say("extractive: the best-ranked retrieved sentence, quoted (no model)")
            records += run_pairs(name, floor.ask, subset, sources, progress)
        else:
            from qa.eval.baseline import BaselinePipeline

            base = BaselinePipeline(es, articles, llm=ours.llm if ours else None, embedder=retriever.embedder)
            models[name] = base.model_label
            note = f" on a sample of {len(subset)} of {len(pairs)} pairs" if len(subset) < len(pairs) else ""
            say(f"baseline: LlamaIndex CitationQueryEngine with {base.model_label}{note}")
            records += run_pairs(name, base.ask, subset, sources, progress)
        seconds[name] = time.perf_counter() - t0
    summaries: dict[str, dict[str, Any]] = {
        str(name): summarize([r for r in records if r["pipeline"] == name]) for name in pipelines
    }
    meta = {
        "started": started,
        "finished": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "model": models.get("ours") or models.get("baseline") or next(iter(models.values()), ""),
        "models": models,
        "embed": settings.index.embed,
        "corpus_dir": str(es.index.corpus_dir),
        "index_dir": str(es.index.data_dir),
        "pairs": len(pairs),
        "pairs_by_pipeline": asked,
        "seconds": seconds,
        "top_k": settings.retrieval.top_k,
        # Latency depends on what else the machine runs: the 1-minute load average before and after.
        "load_average": [load_before, os.getloadavg()[0] if hasattr(os, "getloadavg") else None],
    }
    if "standin" in pipelines:
        meta["standin"] = {"seed": opts.standin_seed, "mix": str(opts.standin_mix)}
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


def resolve_set(args: argparse.Namespace) -> tuple[Path, Path | None]:
    """The pairs file and corpus folder from `--set`, `--pairs` and `--corpus`: `--set NAME` is a folder
    under qa/eval/sets (or any folder) with questions.json and corpus/; a `--pairs FILE` with a corpus/
    folder beside it needs no `--corpus`."""
    corpus = Path(args.corpus) if args.corpus else None
    if getattr(args, "set", None):
        folder = Path(args.set)
        if not folder.is_dir():
            folder = SETS_DIR / args.set
        if not (folder / "questions.json").is_file():
            known = sorted(p.name for p in SETS_DIR.iterdir() if (p / "questions.json").is_file())
            raise InputError(
                f"--set {args.set!r}: no questions.json there; shipped sets: {', '.join(known)}."
            )
        return folder / "questions.json", corpus or folder / "corpus"
    pairs_path = Path(args.pairs) if args.pairs else default_pairs_path()
    if corpus is None and args.pairs and (pairs_path.parent / "corpus").is_dir():
        corpus = pairs_path.parent / "corpus"
    return pairs_path, corpus


def main(args: argparse.Namespace, settings: Settings) -> int:
    """The `qa eval` command (arguments from qa/cli.py)."""
    pairs_path, corpus = resolve_set(args)
    if corpus is not None:
        settings = settings.replaced(corpus_dir=corpus)
    all_pairs = load_pairs(pairs_path)
    pairs = sample(select(all_pairs, args.limit), args.sample, args.seed)
    pipelines = parse_pipelines(args.pipeline)
    subsets: dict[str, Sequence[Pair]] = {}
    if args.baseline_sample is not None and "baseline" in pipelines:
        subsets["baseline"] = sample(pairs, args.baseline_sample, args.seed)
    mix = parse_mix(args.standin_mix) if args.standin_mix else DEFAULT_MIX
    options = EvalOptions(subsets, args.standin_seed, mix)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr)

    drawn = (
        f" (sample of {len(pairs)} of {len(all_pairs)}, seed {args.seed})"
        if len(pairs) < len(all_pairs)
        else ""
    )
    log(f"{len(pairs)} pairs from {pairs_path}{drawn}; corpus {settings.index.corpus_dir}")
    t0 = time.perf_counter()
    result = evaluate(settings, pairs, pipelines, progress=True, log=log, options=options)
    result.meta.update(
        pairs_file=str(pairs_path), pairs_total=len(all_pairs), sample=args.sample, seed=args.seed
    )
    paths = write_outputs(Path(args.out), result)
    print(format_table(result.summaries))
    print()
    for name in pipelines:
        recs = [r for r in result.records if r["pipeline"] == name]
        wrong = misses(recs)
        shown = ", ".join(r["id"] for r in wrong[:20]) + (", …" if len(wrong) > 20 else "")
        print(f"{name}: {len(wrong)} wrong answer(s) of {len(recs)}" + (": " + shown if wrong else ""))
    for which, subset in subsets.items():
        if len(subset) < len(pairs):
            print(
                f"{which} ran on a sample of {len(subset)} of the {len(pairs)} pairs "
                f"(--baseline-sample, seed {args.seed})"
            )
    if "ours" in result.summaries and pairs_path == default_pairs_path() and len(pairs) == len(all_pairs):
        failures = check_floors(result.summaries["ours"], load_floors())
        print("floors (qa/eval/floors.yaml): " + ("all met" if not failures else "; ".join(failures)))
    print(f"wrote {', '.join(str(p) for p in paths.values())} in {time.perf_counter() - t0:.0f}s")
    return 0
