"""The `qa` command, compared on whole output: in this process (`qa.cli.main` with its stdout and stderr
captured) where the model adds nothing to what is checked, as a real subprocess for settings read at start,
`.env`, and the end-to-end answers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from qa.cli import format_answer, main
from qa.retrieve import BM25_FORMAT
from qa.types import Answer

ROOT = Path(__file__).resolve().parent.parent
QA = [sys.executable, "-m", "qa.cli"]


def run(args: list[str], env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*QA, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = dict(os.environ)
    e.update(QA_DATA_DIR=str(tmp_path / "data"), QA_LLM="llamacpp", QA_OLLAMA_HOST="http://127.0.0.1:9")
    return e


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def qa_here(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[[list[str]], Ran]:
    """`qa ARGS` in this process, with the `env` fixture's settings; returns its exit code and output."""
    for key in ("QA_DATA_DIR", "QA_LLM", "QA_OLLAMA_HOST"):
        monkeypatch.setenv(key, env[key])

    def call(args: list[str]) -> Ran:
        capsys.readouterr()
        code = main(args)
        out = capsys.readouterr()
        return Ran(code, out.out, out.err)

    return call


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(ROOT / "seeds", folder)
    return folder


def test_index_then_reindex_prints_a_summary_line_and_a_table_per_format(
    qa_here: Callable[[list[str]], Ran], env: dict[str, str], corpus: Path
) -> None:
    (corpus / "empty.txt").write_text("", "utf-8")
    first = qa_here(["index", "--corpus", str(corpus)])
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(
        "indexed 5 new, 0 changed, 0 removed, 0 unchanged article(s); embedded 1"
    ), first.stdout
    assert "warning: skipped empty.txt: empty" in first.stderr
    # `qa index` wrote the readers' files itself: one folder, with the sentences and the saved BM25 index
    readers = list((Path(env["QA_DATA_DIR"]) / "readers").iterdir())
    assert len(readers) == 1
    assert {"rows.npy", "text.bin", "vectors.npy", "meta.json"} <= {p.name for p in readers[0].iterdir()}
    assert (readers[0] / f"bm25-{BM25_FORMAT}" / "params.index.json").is_file()
    again = qa_here(["index", "--corpus", str(corpus)])
    assert again.stdout.startswith(
        "indexed 0 new, 0 changed, 0 removed, 5 unchanged article(s); embedded 0 sentence(s), "
        "dropped 0 boilerplate line(s), skipped 1 file(s) in "
    ), again.stdout
    assert "warning: skipped empty.txt: empty (unchanged since it was last skipped)" in again.stderr
    assert again.stdout.splitlines()[1:] == [
        "  format  files  new  changed  unchanged  skipped  removed  read/file",
        "  text        6    0        0          5        1        0          -",
    ]


def test_errors_are_one_line_and_exit_1(qa_here: Callable[[list[str]], Ran], tmp_path: Path) -> None:
    empty = qa_here(["ask", "   "])
    assert (empty.returncode, empty.stdout) == (1, "")
    assert (
        empty.stderr.strip().splitlines()[-1]
        == "error: The question is empty: type a question about the articles."
    )
    missing = qa_here(["index", "--corpus", str(tmp_path / "nope")])
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        f"error: Corpus folder {tmp_path / 'nope'} does not exist: pass --corpus DIR or set QA_CORPUS_DIR."
    )
    no_index = qa_here(["ask", "Who is the police spokesman?"])
    assert no_index.returncode == 1
    assert no_index.stderr.strip().splitlines()[-1] == (
        "error: There is no index yet: run `qa index` (or `make run`) first."
    )
    assert "Traceback" not in empty.stderr + missing.stderr + no_index.stderr


BAD_SETTINGS = [
    (
        ["ask", "Who?"],
        {"QA_TOP_K": "abc"},
        "QA_TOP_K='abc' is not a valid setting: it must be a whole number from 1 to 20 (default 5); "
        "fix it or unset QA_TOP_K.",
    ),
    (
        ["serve"],
        {"QA_LLM": "gpt"},
        "QA_LLM='gpt' is not a valid setting: it must be one of auto, ollama, llamacpp (default auto); "
        "fix it or unset QA_LLM.",
    ),
    (
        ["index"],
        {"QA_INDEX__MAX_FILE_MB": "-3"},
        "QA_INDEX__MAX_FILE_MB='-3' is not a valid setting: it must be a number above 0 (default 20); "
        "fix it or unset QA_INDEX__MAX_FILE_MB.",
    ),
    (
        ["ask", "Who?"],
        {"QA_MODEL_ANSWERS": "sometimes"},
        "QA_MODEL_ANSWERS='sometimes' is not a valid setting: it must be one of auto, always, weak, never "
        "(default auto); fix it or unset QA_MODEL_ANSWERS.",
    ),
    (
        ["serve"],
        {"QA_SERVER__CONCURRENCY": "0"},
        "QA_SERVER__CONCURRENCY='0' is not a valid setting: it must be a whole number at least 1 "
        "(default 4); fix it or unset QA_SERVER__CONCURRENCY.",
    ),
    (
        ["index"],
        {"QA_GROUP_JACCARD": "1.5"},
        "QA_GROUP_JACCARD='1.5' is not a valid setting: it must be a number from 0 to 1 (default 0.5); "
        "fix it or unset QA_GROUP_JACCARD.",
    ),
]


@pytest.mark.parametrize(("command", "bad", "message"), BAD_SETTINGS)
def test_a_bad_setting_value_is_one_line_naming_the_variable(
    env: dict[str, str], tmp_path: Path, command: list[str], bad: dict[str, str], message: str
) -> None:
    # Run from an empty folder (no .env), with this checkout's code.
    done = run(command, {**env, **bad, "PYTHONPATH": str(ROOT)}, cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", f"error: {message}\n")


def test_a_bad_setting_in_dot_env_is_named_too(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("QA_RETRIEVAL__TOP_K=99\n", "utf-8")
    done = run(["ask", "Who?"], {**env, "PYTHONPATH": str(ROOT)}, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "error: QA_RETRIEVAL__TOP_K='99' is not a valid setting: it must be a whole number from 1 to 20 "
        "(default 5); fix it or unset QA_RETRIEVAL__TOP_K.\n"
    )


@pytest.mark.slow
def test_ask_json_and_text_print_the_same_answer(env: dict[str, str], corpus: Path) -> None:
    question = "Who is the provincial police spokesman?"
    out = run(["ask", "--json", "--corpus", str(corpus), question], env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("\n") == 1  # one JSON object, one line
    data = json.loads(out.stdout)
    assert set(data) >= {"question", "answer", "refused", "citations", "model", "timings"}
    assert data["question"] == question and data["refused"] is False
    for c in data["citations"]:
        assert set(c) >= {"id", "file", "sentence", "quote", "start", "end"}
        assert (corpus / c["file"]).read_text("utf-8")[c["start"] : c["end"]] == c["quote"]
    text = run(["ask", "--corpus", str(corpus), question], env)
    assert text.returncode == 0, text.stderr
    answer = Answer(**data)
    expected = format_answer(answer).rsplit("\n", 1)[0]  # all but the timing line
    assert text.stdout.rsplit("\n", 2)[0] == expected
    assert text.stderr.strip().endswith("using llamacpp:SmolLM2-135M-Instruct.Q4_1 (QA_LLM=llamacpp)")


@pytest.mark.slow
def test_refusal_prints_the_sentinel_and_no_footnotes(env: dict[str, str], corpus: Path) -> None:
    out = run(["ask", "--corpus", str(corpus), "Who is the president of France?"], env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0] == "I cannot answer that from the articles."
    assert lines[1].startswith("(refused: ") and len(lines) == 2
