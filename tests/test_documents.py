"""Adding and removing articles (qa/documents.py, index/uploads.py) with a real Chroma index in tmp_path,
without a server: safe names, bounded copies, statuses, replacing, bad files that change nothing, removal,
and the indexer's `only` run leaving the other articles alone. The HTTP routes are in
tests/test_api_documents.py."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from index.build import index_corpus
from index.uploads import clean_name, stage, unsupported
from qa.documents import Documents, LocalIndex
from qa.settings import Settings
from tests.live_server import SEEDS

ARTICLE = (
    "Velmora harbour bridge repainted ahead of schedule\n\n"
    "The repainting of the Velmora harbour bridge was finished on 14 March, three weeks ahead of schedule. "
    "The work was led by the engineer Ottilie Brandvik, who had managed the project since 2019. "
    "About 4,000 litres of paint were used on the steel arches. "
    "The council said the bridge would reopen to cyclists on Monday.\n"
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("notes.txt", "notes.txt"),
        ("../../x.txt", "x.txt"),
        ("/etc/cron.d/evil.md", "evil.md"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        ("a\x00b.txt", "ab.txt"),
        (".env", "env"),
        ("...hidden.html", "hidden.html"),
        ("  spaced   out .docx", "spaced out.docx"),
        ('what?<b>"x".txt', "what__b__x_.txt"),
        ("<b>x</b>.txt", "b_.txt"),  # a slash is a separator wherever it is
        ("..", "upload"),
        ("", "upload"),
        ("é" * 300 + ".txt", "é" * 98 + ".txt"),  # 200 bytes
        ("line\nbreak\ttab.md", "linebreaktab.md"),
    ],
)
def test_a_sent_name_becomes_a_name_inside_the_folder(raw: str, clean: str) -> None:
    got = clean_name(raw)
    assert got == clean
    assert "/" not in got and "\x00" not in got and not got.startswith(".")
    assert len(got.encode()) <= 200
    assert clean_name(got) == got  # stable: a cleaned name is its own clean name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("a.txt", None),
        ("a.PDF", None),
        ("a.doc", "save it as .docx"),
        ("a.exe", "a .exe file is not an article format that is read"),
        ("README", "a file without a suffix"),
    ],
)
def test_only_article_formats_are_taken(name: str, reason: str | None) -> None:
    got = unsupported(name)
    assert (got is None) if reason is None else (got is not None and reason in got)


def test_a_copy_stops_past_the_limit_and_leaves_nothing(tmp_path: Path) -> None:
    assert stage(tmp_path, io.BytesIO(b"x" * 101), 100) is None
    assert list(tmp_path.iterdir()) == []
    staged = stage(tmp_path, io.BytesIO(b"x" * 100), 100)
    assert staged is not None and staged[1] == 100 and staged[0].name.startswith(".")


@pytest.fixture
def docs(tmp_path: Path) -> Documents:
    """Two seeds, indexed, and the Documents of a command (no server)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for p in sorted(SEEDS.glob("*.txt"))[:2]:
        shutil.copy(p, corpus / p.name)
    s = Settings(data_dir=tmp_path / "data", corpus_dir=corpus, llm="llamacpp", max_upload_mb=0.01)
    index_corpus(s.index)
    return Documents(s, LocalIndex(s), resume=False)


def _status(docs: Documents) -> dict[str, tuple[str, int | None, str | None]]:
    return {d.name: (d.status, d.sentences, d.reason) for d in docs.list()}


def _texts(docs: Documents, name: str) -> list[str]:
    from qa.retrieve import Retriever

    return [s.text for s in Retriever(docs.settings).file_sentences(name)]


def test_add_replace_and_remove_an_article(docs: Documents) -> None:
    before = _status(docs)
    assert len(before) == 2 and all(v[0] == "ready" for v in before.values())
    [r] = docs.add([("../velmora.txt", io.BytesIO(ARTICLE.encode()))])
    assert (r.name, r.status, r.replaced) == ("velmora.txt", "queued", False)
    assert (docs.folder / "velmora.txt").read_text() == ARTICLE
    assert docs.wait(["velmora.txt"], 120)
    after = _status(docs)
    assert after["velmora.txt"][0] == "ready" and after["velmora.txt"][1] == 5  # the title and four sentences
    assert {k: v for k, v in after.items() if k != "velmora.txt"} == before
    assert any("Ottilie Brandvik" in t for t in _texts(docs, "velmora.txt"))

    # The same name replaces the article: its old sentences go.
    new = ARTICLE.replace("Ottilie Brandvik", "Mira Soltvedt")
    [r] = docs.add([("velmora.txt", io.BytesIO(new.encode()))])
    assert r.replaced and r.status == "queued"
    assert docs.wait(["velmora.txt"], 120)
    texts = _texts(docs, "velmora.txt")
    assert any("Mira Soltvedt" in t for t in texts) and not any("Brandvik" in t for t in texts)

    assert docs.remove("velmora.txt") and docs.wait(["velmora.txt"], 120)
    assert not (docs.folder / "velmora.txt").exists()
    assert _status(docs) == before and _texts(docs, "velmora.txt") == []
    assert not docs.remove("velmora.txt")  # nothing of that name any more


def test_bad_files_are_skipped_and_change_nothing(docs: Documents) -> None:
    [velmora] = docs.add([("velmora.txt", io.BytesIO(ARTICLE.encode()))])
    docs.wait([velmora.name], 120)
    before = _status(docs)
    files = sorted(p.name for p in docs.folder.iterdir())
    got = docs.add(
        [
            ("tool.exe", io.BytesIO(b"MZ\x90\x00")),
            ("empty.txt", io.BytesIO(b"")),
            ("big.txt", io.BytesIO(b"word " * 4000)),  # 20 KB, over 0.01 MB
            ("broken.pdf", io.BytesIO(b"%PDF-1.4\n garbage, no objects")),
            ("velmora.txt", io.BytesIO(b"\xff\xfe not utf-8 \xc3\x28")),  # replaces a good article
        ]
    )
    by_name = {r.name: r for r in got}
    assert by_name["tool.exe"].status == "skipped" and "not an article format" in str(
        by_name["tool.exe"].reason
    )
    assert by_name["empty.txt"].status == "skipped" and by_name["empty.txt"].reason == "an empty file"
    assert by_name["big.txt"].reason == "larger than 0.01 MB (QA_MAX_UPLOAD_MB)"
    assert by_name["broken.pdf"].status == "queued" and by_name["velmora.txt"].replaced
    assert docs.wait(["broken.pdf", "velmora.txt"], 120)
    after = _status(docs)
    assert after["broken.pdf"][0] == "skipped" and "PDF" in str(after["broken.pdf"][2])
    assert after["tool.exe"][0] == "skipped" and after["big.txt"][0] == "skipped"
    # The good article keeps its indexed version and its file; the list says why.
    assert after["velmora.txt"][:2] == before["velmora.txt"][:2]
    assert "not UTF-8" in str(after["velmora.txt"][2]) and "kept" in str(after["velmora.txt"][2])
    assert (docs.folder / "velmora.txt").read_text() == ARTICLE
    assert sorted(p.name for p in docs.folder.iterdir()) == files
    assert {k: after[k] for k in before if k != "velmora.txt"} == {
        k: v for k, v in before.items() if k != "velmora.txt"
    }
    # An upload that was not kept can be dismissed.
    assert docs.remove("broken.pdf") and "broken.pdf" not in _status(docs)


def test_a_file_put_in_by_hand_is_new_until_indexed(docs: Documents) -> None:
    (docs.folder / "by-hand.txt").write_text(ARTICLE)
    assert _status(docs)["by-hand.txt"][0] == "new"


def test_a_killed_servers_queue_is_indexed_when_it_starts_again(docs: Documents) -> None:
    s = docs.settings
    (s.index.corpus_dir / "velmora.txt").write_text(ARTICLE)  # saved, never indexed: the process died
    (s.index.data_dir / "documents-pending.json").write_text('{"pending": ["velmora.txt", "../x.txt"]}')
    resumed = Documents(s, LocalIndex(s), resume=True)
    assert resumed.wait(["velmora.txt"], 120)
    assert _status(resumed)["velmora.txt"][:2] == ("ready", 5)
    assert '"pending": []' in (s.index.data_dir / "documents-pending.json").read_text()


def test_qa_add_documents_and_remove(docs: Documents, tmp_path: Path) -> None:
    """The real commands (a subprocess each) over the fixture's folder, outputs compared whole."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "QA_DATA_DIR": str(docs.settings.index.data_dir),
        "QA_CORPUS_DIR": str(docs.folder),
        "QA_MAX_UPLOAD_MB": "0.01",
    }

    def qa(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "qa.cli", *args]
        return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)

    (tmp_path / "velmora.txt").write_text(ARTICLE)
    (tmp_path / "empty.md").write_text("")
    assert qa("add", "velmora.txt", "missing.txt").stderr == (
        "error: Cannot read missing.txt: it is not a file. Check the path and try again.\n"
    )
    assert not (docs.folder / "velmora.txt").exists()  # nothing is added when one file is missing
    got = qa("add", "velmora.txt", "empty.md")
    assert (got.returncode, got.stdout) == (1, "added velmora.txt: ready, 5 sentence(s)\n")
    assert got.stderr == "empty.md: skipped: an empty file\n"
    seeds = sorted(p.name for p in SEEDS.glob("*.txt"))[:2]
    listed = qa("documents").stdout.splitlines()
    assert [line.split(":")[0] for line in listed] == [*seeds, "velmora.txt"]
    assert listed[-1] == "velmora.txt: ready, 5 sentence(s)"
    got = qa("remove", "velmora.txt")
    assert (got.returncode, got.stdout) == (0, "removed velmora.txt\n")
    got = qa("remove", "velmora.txt")
    assert got.returncode == 1 and "No article is named 'velmora.txt'" in got.stderr
    assert [line.split(":")[0] for line in qa("documents").stdout.splitlines()] == seeds
