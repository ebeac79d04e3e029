"""Presenting evaluation results: the printed table, report.md and a chart comparing pipelines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from qa.eval.metrics import RECALL_KS

# (summary key, label) of the rates shown as percentages, in table order.
RATES: tuple[tuple[str, str], ...] = (
    ("answer_accuracy", "answer accuracy (answerable)"),
    ("citation_validity", "citation validity"),
    ("citation_support", "citation support (ALCE recall)"),
    ("citation_precision", "citation precision (ALCE)"),
    ("evidence_hit", "evidence hit (answered)"),
    *((f"recall@{k}", f"retrieval recall@{k}") for k in RECALL_KS),
    ("mrr", "retrieval MRR"),
    ("true_refusal", "true refusals (unanswerable → refused)"),
    ("false_refusal", "false refusals (answerable → refused)"),
    ("refusal_accuracy", "refusal accuracy (all pairs)"),
    ("exact_match", "exact match (short answer)"),
    ("short_answer_f1", "short-answer F1"),
    ("contains_gold", "answer contains a gold answer"),
    ("cited_gold_span", "a citation covers a gold span"),
    ("fooled_by_plausible", "fooled by the plausible answer"),
    ("conflict_surfaced", "conflict: every version shown and cited"),
    ("false_conflict", "false conflict (sources agree)"),
)
# Counts shown as plain numbers.
COUNTS: tuple[tuple[str, str], ...] = (
    ("answer_words_p50", "answer words p50"),
    ("short_answer_words_p50", "short-answer words p50"),
)
# Shown only when a pipeline ran with the capable-model stand-in.
STANDIN_ROWS: tuple[tuple[str, str], ...] = (
    ("standin_correct_kept", "stand-in: correct terse answer kept"),
    ("standin_marker_repaired", "stand-in: wrong marker repaired"),
    ("standin_hallucination_passed", "stand-in: wrong answer passed"),
    ("standin_refusal_honoured", "stand-in: its refusal honoured"),
)
# What the chart compares: higher is better for all of them.
CHART_RATES: tuple[str, ...] = (
    "answer_accuracy",
    "citation_validity",
    "citation_support",
    "citation_precision",
    "evidence_hit",
    f"recall@{RECALL_KS[0]}",
    "mrr",
    "true_refusal",
)
MAX_SHOWN = 160


def _pct(v: Any) -> str:
    return "—" if not isinstance(v, int | float) else f"{100 * v:.1f}%"


def _num(v: Any) -> str:
    return "—" if not isinstance(v, int | float) else f"{v:g}"


def _modes(v: Any) -> str:
    if not isinstance(v, dict):
        return "—"
    return " ".join(f"{k} {n}" for k, n in v.items())


def _secs(v: Any) -> str:
    return "—" if not isinstance(v, int | float) else f"{v / 1000:.2f}s"


def table_rows(summaries: Mapping[str, Mapping[str, Any]]) -> list[list[str]]:
    """Rows of the comparison table: a header, then one row per metric, one column per pipeline."""
    names = list(summaries)
    rows = [["metric", *names]]
    rows.append(
        [
            "pairs (answerable / unanswerable)",
            *(f"{s['pairs']} ({s['answerable']} / {s['unanswerable']})" for s in summaries.values()),
        ]
    )
    for key, label in RATES:
        cells = []
        for s in summaries.values():
            cell = _pct(s.get(key))
            if key == "citation_validity":
                cell += f" of {s.get('citations', 0)}"
            cells.append(cell)
        rows.append([label, *cells])
    for key, label in COUNTS:
        rows.append([label, *(_num(s.get(key)) for s in summaries.values())])
    if any("standin_modes" in s for s in summaries.values()):
        for key, label in STANDIN_ROWS:
            rows.append([label, *(_pct(s.get(key)) for s in summaries.values())])
        rows.append(["stand-in: modes played", *(_modes(s.get("standin_modes")) for s in summaries.values())])
    rows.append(["errors", *(str(s.get("errors", 0)) for s in summaries.values())])
    stages: list[str] = []
    for s in summaries.values():
        stages += [k for k in s.get("latency", {}) if k not in stages]
    for stage in stages:
        cells = []
        for s in summaries.values():
            lat = s.get("latency", {}).get(stage)
            cells.append(f"{_secs(lat['p50'])} / {_secs(lat['p95'])}" if lat else "—")
        rows.append([f"latency {stage.removesuffix('_ms')} p50 / p95", *cells])
    return rows


def format_table(summaries: Mapping[str, Mapping[str, Any]]) -> str:
    """The table as Markdown (aligned, so it reads in a terminal too)."""
    rows = table_rows(summaries)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]

    def line(r: Sequence[str]) -> str:
        cells = (c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        return "| " + " | ".join(cells) + " |"

    sep = "|" + "|".join("-" * (w + 1) + (":" if i else "-") for i, w in enumerate(widths)) + "|"
    return "\n".join([line(rows[0]), sep, *(line(r) for r in rows[1:])])


def _loads(values: Any) -> str:
    if not isinstance(values, list):
        return "?"
    return " / ".join("?" if v is None else f"{v:.1f}" for v in values)


def _short(text: str, n: int = MAX_SHOWN) -> str:
    t = " ".join(text.split())
    return t if len(t) <= n else t[: n - 1] + "…"


def _sampling(meta: Mapping[str, Any]) -> str:
    """What was sampled and which model answered for each pipeline, in words."""
    lines = []
    total = meta.get("pairs_total")
    if isinstance(total, int) and total > meta["pairs"]:
        lines.append(f"A stratified sample of {meta['pairs']} of {total} pairs (seed {meta.get('seed')}).")
    for name, n in (meta.get("pairs_by_pipeline") or {}).items():
        if n < meta["pairs"]:
            lines.append(f"`{name}` ran on a sample of {n} of them (same seed).")
    models = meta.get("models") or {}
    if models:
        lines.append("Models: " + "; ".join(f"{k} `{v}`" for k, v in models.items()) + ".")
    if meta.get("standin"):
        lines.append(f"Stand-in: seed {meta['standin']['seed']}, mix `{meta['standin']['mix']}`.")
    return " ".join(lines) + "\n" if lines else ""


def misses(records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Records whose answer is wrong: answerable and not correct, or unanswerable and not refused."""
    return [
        r for r in records if (r["metrics"]["correct"] is False) or (not r["answerable"] and not r["refused"])
    ]


def expected_text(record: Mapping[str, Any]) -> str:
    """What the pair expects, in words."""
    if not record["answerable"]:
        return "a refusal"
    return " AND ".join(f"({g})" if "|" in g else g for g in record["answers"])


def got_text(record: Mapping[str, Any]) -> str:
    """What the pipeline gave, in words."""
    if record.get("error"):
        return f"error: {record['error']}"
    if record["refused"]:
        return "refused"
    return _short(str(record["answer"]))


def misses_markdown(records: Sequence[Mapping[str, Any]]) -> str:
    """A Markdown table of the wrong answers."""
    rows = misses(records)
    if not rows:
        return "None.\n"
    out = ["| id | question | expected | got |", "|---|---|---|---|"]
    for r in rows:
        cells = [r["id"], r["question"], expected_text(r), got_text(r)]
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(out) + "\n"


def write_markdown(
    path: Path,
    summaries: Mapping[str, Mapping[str, Any]],
    records: Sequence[Mapping[str, Any]],
    meta: Mapping[str, Any],
    chart: str | None,
) -> None:
    """report.md: the table, what each metric means, the misses per pipeline, every pair's outcome."""
    parts = [
        "# Evaluation report\n",
        f"{meta['pairs']} pairs from `{meta.get('pairs_file', '?')}` over `{meta['corpus_dir']}`; model "
        f"`{meta['model']}`, embeddings `{meta['embed']}`; {meta['started']}; took "
        + ", ".join(f"{k} {v:.0f}s" for k, v in meta["seconds"].items())
        + f" (load average before/after: {_loads(meta.get('load_average'))}; latency depends on it).\n",
        _sampling(meta),
        format_table(summaries) + "\n",
    ]
    if chart:
        parts.append(f"![metrics by pipeline]({chart})\n")
    parts.append(
        "## What the numbers mean\n\n"
        "Deterministic, no model judge (see `qa/eval/metrics.py`).\n\n"
        "- **answer accuracy**: answerable pairs whose answer is not a refusal and matches every "
        "acceptable-answer group (alternatives split on `|`, whole phrase, case-insensitive).\n"
        "- **citation validity**: citations that are exactly one citable sentence of their file "
        "(re-read: `text[start:end] == quote`, the span is sentence `n` of `split_sentences`, not "
        "boilerplate); a marker with no citation counts as an invalid one. The baseline cites chunks: a "
        "chunk is valid only if it is exactly one sentence.\n"
        "- **citation support** (ALCE citation recall): answer sentences supported by the union of what they "
        "cite (`qa.cite.support`), averaged over answered pairs.\n"
        "- **citation precision** (ALCE): a citation use is irrelevant when the sentence is unsupported, or "
        "when the citation alone does not support it and the others do.\n"
        "- **evidence hit**: answered answerable pairs where a cited text holds a gold evidence string from "
        "the right file.\n"
        "- **retrieval recall@k / MRR**: by sentence id against the gold sentences. The baseline retrieves "
        "chunks: its ranking lists each chunk's sentences in file order.\n"
        "- **refusals**: true = unanswerable pairs refused; false = answerable pairs refused.\n"
        "- **latency**: p50 / p95 per stage from each answer's timings.\n"
        "- **short answer**: the answer's first claim (`qa.cite.split_claims`), markers removed, enclosing "
        "quotation marks stripped; a refusal has none. **exact match** / **short-answer F1**: SQuAD's, "
        "against the best gold answer (lower case, punctuation and a/an/the removed). **contains gold**: "
        "the whole answer holds a gold answer. **a citation covers a gold span**: a valid citation's "
        "[start, end) holds a gold span, or contiguous cited sentences of that file do. All four over "
        "answerable pairs, a refusal scoring 0. **fooled**: unanswerable, not refused, and the answer holds "
        "the plausible answer. Definitions: `qa/eval/short.py`.\n"
        "- **stand-in** rows: the capable-model stand-in's modes and what the pipeline made of them "
        "(`qa/eval/standin.py`).\n"
    )
    for name in summaries:
        recs = [r for r in records if r["pipeline"] == name]
        parts.append(f"## Wrong answers: {name}\n\n{misses_markdown(recs)}")
    parts.append("## Every pair\n\n| pipeline | id | ok | valid/cit. | support | F1 | span | answer |")
    parts.append("|---|---|---|---|---|---|---|---|")
    for r in records:
        m = r["metrics"]
        ok = (
            ("refused ✓" if r["refused"] else "answered ✗")
            if not r["answerable"]
            else ("✓" if m["correct"] else ("refused ✗" if r["refused"] else "✗"))
        )
        sup = "—" if m["citation_support"] is None else f"{100 * m['citation_support']:.0f}%"
        ans = got_text(r).replace("|", "\\|")
        cited = f"{m['citations_valid']}/{m['citations']}"
        f1 = "—" if m.get("short_answer_f1") is None else f"{m['short_answer_f1']:.2f}"
        span = {None: "—", True: "✓", False: "✗"}[m.get("cited_gold_span")]
        if m.get("standin_mode"):
            ans = f"[stand-in {m['standin_mode']}] {ans}"
        parts.append(f"| {r['pipeline']} | {r['id']} | {ok} | {cited} | {sup} | {f1} | {span} | {ans} |")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")


def write_chart(path: Path, summaries: Mapping[str, Mapping[str, Any]]) -> None:
    """A PNG: quality rates side by side per pipeline, and p50/p95 total latency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(summaries)
    fig, (ax, lat_ax) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [3, 1]})
    width = 0.8 / max(1, len(names))
    xs = list(range(len(CHART_RATES)))
    for i, name in enumerate(names):
        vals = [100 * float(summaries[name].get(k) or 0.0) for k in CHART_RATES]
        bars = ax.bar([x + i * width for x in xs], vals, width, label=name)
        ax.bar_label(bars, fmt="%.0f", fontsize=7, padding=1)
    ax.set_xticks([x + width * (len(names) - 1) / 2 for x in xs])
    ax.set_xticklabels([k.replace("_", " ") for k in CHART_RATES], rotation=25, ha="right", fontsize=8)
    ax.set_ylim(0, 110)
    ax.set_ylabel("%")
    ax.set_title("quality (higher is better)")
    ax.legend()
    for i, name in enumerate(names):
        lat = summaries[name].get("latency", {}).get("total_ms") or {}
        vals = [float(lat.get("p50") or 0) / 1000, float(lat.get("p95") or 0) / 1000]
        bars = lat_ax.bar([x + i * width for x in (0, 1)], vals, width, label=name)
        lat_ax.bar_label(bars, fmt="%.1f", fontsize=7, padding=1)
    lat_ax.set_xticks([x + width * (len(names) - 1) / 2 for x in (0, 1)])
    lat_ax.set_xticklabels(["p50", "p95"])
    lat_ax.set_ylabel("seconds")
    lat_ax.set_title("total latency per question")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
