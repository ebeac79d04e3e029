"""The evaluation on the shipped pairs with the real packaged model: floors, and the `qa eval` command.

The full run asks every pair once through `Pipeline.ask` (~1–3 s a pair on 2 cores) and fails when a
metric drops below its floor in qa/eval/floors.yaml. The table is printed so a run shows where it stands.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa import cli
from qa.eval.metrics import check_floors
from qa.eval.pairs import load_pairs
from qa.eval.report import format_table, misses
from qa.eval.run import EvalResult, evaluate, load_floors, write_outputs
from qa.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]  # one module fixture runs every pair
SEEDS = Path(__file__).resolve().parent.parent / "seeds"
RECORD_KEYS = {
    "pipeline",
    "id",
    "question",
    "answer",
    "refused",
    "citations",
    "timings",
    "retrieved",
    "metrics",
}
CITATION_KEYS = {"id", "file", "sentence", "quote", "start", "end"}


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> EvalResult:
    settings = Settings(data_dir=tmp_path_factory.mktemp("eval-data"), corpus_dir=SEEDS, llm="llamacpp")
    return evaluate(settings, load_pairs(), ["ours"])


def test_ours_meets_the_floors(result: EvalResult, capsys: pytest.CaptureFixture[str]) -> None:
    summary = result.summaries["ours"]
    wrong = misses(result.records)
    with capsys.disabled():
        print("\n" + format_table(result.summaries))
        print(f"wrong ({len(wrong)}): " + ", ".join(r["id"] for r in wrong))
    failures = check_floors(summary, load_floors())
    assert not failures, "\n".join(failures)


def test_every_citation_is_exactly_a_sentence_of_its_file(result: EvalResult) -> None:
    bad = [f"{r['id']}: {why}" for r in result.records for why in r["metrics"]["invalid_citations"]]
    assert not bad, "\n".join(bad)
    assert result.summaries["ours"]["citation_validity"] == 1.0


def test_refusals_carry_no_citations_and_answers_carry_some(result: EvalResult) -> None:
    for r in result.records:
        assert bool(r["citations"]) != r["refused"], r["id"]


def test_outputs_have_the_documented_shape(result: EvalResult, tmp_path: Path) -> None:
    paths = write_outputs(tmp_path, result)
    data = json.loads(paths["results"].read_text(encoding="utf-8"))
    assert len(data["records"]) == len(load_pairs())
    for r in data["records"]:
        assert set(r) >= RECORD_KEYS
        assert all(set(c) >= CITATION_KEYS for c in r["citations"])
        assert {"total_ms", "retrieve_ms"} <= set(r["timings"])
    assert data["summaries"]["ours"]["pairs"] == len(load_pairs())
    assert "| answer accuracy (answerable)" in paths["report"].read_text(encoding="utf-8")
    assert paths["chart"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_runs_both_pipelines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`qa eval --pipeline both --limit 1`: the real command, both pipelines, no global Settings."""
    import llama_index.core

    monkeypatch.setenv("QA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QA_LLM", "llamacpp")
    monkeypatch.delenv("QA_CORPUS_DIR", raising=False)
    out = tmp_path / "out"
    rc = cli.main(["eval", "--pipeline", "both", "--limit", "1", "--corpus", str(SEEDS), "--out", str(out)])
    printed = capsys.readouterr().out
    assert rc == 0
    header = printed.splitlines()[0]
    assert [c.strip() for c in header.split("|")[1:4]] == ["metric", "ours", "baseline"]
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert [r["pipeline"] for r in data["records"]] == ["ours", "baseline"]
    assert data["records"][1]["mode"] == "baseline"
    assert (out / "report.md").is_file() and (out / "chart.png").is_file()
    # the baseline passed its models explicitly: llama-index never resolved a global one
    assert llama_index.core.Settings._llm is None
    assert llama_index.core.Settings._embed_model is None
