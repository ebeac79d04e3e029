"""Hostile files in a corpus folder: each is skipped with a warning that names it, and the others are
indexed. One index run over a folder of them all, then one test per file; the time limit, the memory limit
and `kill -9` each get their own run.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.build import IndexReport, evidence_sentences, index_corpus
from index.embed import make_embedder
from index.store import Store
from qa.settings import Settings
from tests.fixtures_formats import (
    ROOT,
    SEEDS,
    encrypted_pdf,
    every_format_corpus,
    html_page,
    many_pages_pdf,
    scanned_pdf,
    seed_files,
    seed_parts,
    write_seed,
    zip_bomb_docx,
)
from tests.helpers import MAX_CHARS
from tests.test_faults import _committed_rows

GOOD = "good.html"
# file → what its skip reason says
HOSTILE = {
    "encrypted.pdf": "encrypted: it needs a password",
    "malformed.pdf": "not a readable PDF",
    "truncated.pdf": "not a readable PDF",
    "ten_thousand_pages.pdf": "has 10,000 pages; the limit is 2,000",
    "scanned.pdf": "no text layer (a scanned PDF?)",
    "zip_bomb.docx": "a zip bomb",
    "not_a_zip.docx": "not a Word .docx file",
    "scripts_only.html": "no article text found",
    "binary_renamed.html": "binary data, not an HTML page",
    "too_big.pdf": "larger than 20 MB",
    "too_big.txt": "larger than 20 MB",
    "old_word.doc": ".doc",
}
SCRIPTS_ONLY = """<!DOCTYPE html><html><head><script>fetch('/steal?c=' + document.cookie)</script></head>
<body onload="alert(1)"><img src=x onerror="alert(2)"><svg onload="alert(3)"></svg>
<a href="javascript:alert(4)"></a><iframe src="javascript:alert(5)"></iframe>
<script>document.write('<p>' + atob('SGVsbG8=') + '</p>')</script></body></html>"""


Hostile = tuple[Settings, Path, IndexReport, list[str]]


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Hostile:
    """A folder of every hostile file plus three good articles (a web page full of scripts and handlers
    around its text, a PDF that opens without a password, a .txt), indexed once with the defaults."""
    root = tmp_path_factory.mktemp("hostile")
    folder = root / "corpus"
    folder.mkdir()
    title, body = seed_parts(seed_files()[1])
    evil = html_page(title, body).replace(
        '<div class="story-body">',
        '<div class="story-body"><script>window.__pwned = 1</script>'
        '<img src=x onerror="window.__pwned = 2"><p onmouseover="steal()">',
    )
    (folder / GOOD).write_text(evil, "utf-8")
    (folder / "owner_password_only.pdf").write_bytes(encrypted_pdf(""))
    shutil.copy(SEEDS / "004_b46bcfd9b799a991.txt", folder / "plain.txt")
    (folder / "encrypted.pdf").write_bytes(encrypted_pdf("reader-secret"))
    (folder / "malformed.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    write_seed(seed_files()[0], root, ".pdf")
    whole = (root / f"{seed_files()[0].stem}.pdf").read_bytes()
    (folder / "truncated.pdf").write_bytes(whole[: len(whole) // 3])
    (folder / "ten_thousand_pages.pdf").write_bytes(many_pages_pdf(10_000))
    (folder / "scanned.pdf").write_bytes(scanned_pdf())
    (folder / "zip_bomb.docx").write_bytes(zip_bomb_docx(64))
    (folder / "not_a_zip.docx").write_text("This was never a Word document.", "utf-8")
    (folder / "scripts_only.html").write_text(SCRIPTS_ONLY, "utf-8")
    (folder / "binary_renamed.html").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(4096))
    for name in ("too_big.pdf", "too_big.txt"):
        with open(folder / name, "wb") as f:  # sparse: 21 MB on paper, nothing on disk
            f.truncate(21 * 1024 * 1024)
    (folder / "old_word.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))
    settings = Settings(data_dir=root / "data", corpus_dir=folder)
    capture = _Capture()
    logger = logging.getLogger("index")
    logger.addHandler(capture)
    try:
        report = index_corpus(settings.index)
    finally:
        logger.removeHandler(capture)
    return settings, folder, report, capture.messages


def _store(settings: Settings) -> Store:
    emb = make_embedder(settings.index, settings.llm)
    return Store(settings.index, emb.name, emb.dim)


def _check_skipped(hostile: Hostile, name: str) -> None:
    settings, _, report, messages = hostile
    reasons = {s.file: s.reason for s in report.skipped}
    assert name in reasons, sorted(reasons)
    assert HOSTILE[name] in reasons[name], reasons[name]
    assert any(m.startswith(f"skipping {name}: ") for m in messages), messages
    # The rest of the folder is indexed all the same.
    assert sorted(report.added) == [GOOD, "owner_password_only.pdf", "plain.txt"]
    assert name not in _store(settings).manifest()


def test_nothing_but_the_hostile_files_is_skipped(
    hostile: Hostile,
) -> None:
    _, _, report, _ = hostile
    assert sorted(s.file for s in report.skipped) == sorted(HOSTILE)


def test_an_encrypted_pdf_is_skipped(hostile: Hostile) -> None:
    _check_skipped(hostile, "encrypted.pdf")


def test_a_pdf_that_needs_no_password_is_read_though_encrypted(
    hostile: Hostile,
) -> None:
    settings, _, _, _ = hostile
    kept = _store(settings).text("owner_password_only.pdf")
    assert kept is not None and "Imam Sahib district" in kept.text and kept.pages


def test_a_malformed_pdf_is_skipped(hostile: Hostile) -> None:
    _check_skipped(hostile, "malformed.pdf")


def test_a_truncated_pdf_is_skipped(hostile: Hostile) -> None:
    _check_skipped(hostile, "truncated.pdf")


def test_a_pdf_with_ten_thousand_pages_is_skipped(
    hostile: Hostile,
) -> None:
    _check_skipped(hostile, "ten_thousand_pages.pdf")


def test_a_scanned_pdf_is_skipped_saying_it_has_no_text_layer(
    hostile: Hostile,
) -> None:
    _check_skipped(hostile, "scanned.pdf")


def test_a_zip_bomb_docx_is_skipped(hostile: Hostile) -> None:
    _check_skipped(hostile, "zip_bomb.docx")


def test_a_docx_that_is_not_a_zip_is_skipped(hostile: Hostile) -> None:
    _check_skipped(hostile, "not_a_zip.docx")


def test_html_of_scripts_and_event_handlers_is_skipped(
    hostile: Hostile,
) -> None:
    _check_skipped(hostile, "scripts_only.html")


def test_a_binary_renamed_html_is_skipped(hostile: Hostile) -> None:
    _check_skipped(hostile, "binary_renamed.html")


@pytest.mark.parametrize("name", ["too_big.pdf", "too_big.txt"])
def test_a_file_over_the_size_limit_is_skipped(hostile: Hostile, name: str) -> None:
    _check_skipped(hostile, name)


def test_a_format_that_is_not_read_is_named_not_ignored(
    hostile: Hostile,
) -> None:
    _check_skipped(hostile, "old_word.doc")


def test_scripts_and_handlers_around_an_article_never_reach_its_text(
    hostile: Hostile,
) -> None:
    settings, _, _, _ = hostile
    store = _store(settings)
    kept = store.text(GOOD)
    assert kept is not None and "Imam Sahib" in kept.text
    for code in ("__pwned", "onerror", "onmouseover", "steal()", "<script", "<img"):
        assert code not in kept.text
    assert all(kept.text[s.start : s.end] == s.text for s in store.all_sentences()[0] if s.file == GOOD)


# ---- limits on time and memory -------------------------------------------------------------------------
def test_a_file_that_takes_too_long_is_stopped_and_the_next_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    # 10,000 pages of text: allowed by the page limit here, but far more than a second of reading.
    (folder / "a_slow.pdf").write_bytes(
        many_pages_pdf(10_000, "The river rose on Monday and the bridge closed.")
    )
    write_seed(seed_files()[2], folder, ".md")
    settings = Settings(
        data_dir=tmp_path / "data", corpus_dir=folder, max_pdf_pages=20_000, extract_timeout_s=1.0
    )
    t0 = time.monotonic()
    report = index_corpus(settings.index)
    assert time.monotonic() - t0 < 60
    assert [(s.file, s.reason) for s in report.skipped] == [
        ("a_slow.pdf", "took longer than 1 s to read, so it was stopped (QA_EXTRACT_TIMEOUT_S)")
    ]
    assert report.added == [f"{seed_files()[2].stem}.md"]
    # Remembered: the next run does not spend the time limit on it again, until the file changes.
    again = index_corpus(settings.index)
    assert again.skipped[0].reason.endswith("(unchanged since it was last skipped)")
    assert again.formats["pdf"].read == 0 and again.unchanged == report.added


def test_a_file_that_needs_too_much_memory_is_skipped_and_the_next_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    # Under the size limit, but its element tree needs far more than 256 MB.
    (folder / "a_huge_tree.html").write_text(
        "<html><body>" + "<div><p>The river rose on Monday.</p></div>" * 250_000 + "</body></html>", "utf-8"
    )
    write_seed(seed_files()[2], folder, ".docx")
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=folder, extract_memory_mb=256)
    report = index_corpus(settings.index)
    assert [s.file for s in report.skipped] == ["a_huge_tree.html"]
    assert "256 MB" in report.skipped[0].reason and "QA_EXTRACT_MEMORY_MB" in report.skipped[0].reason
    assert report.added == [f"{seed_files()[2].stem}.docx"]


# ---- kill -9 -------------------------------------------------------------------------------------------
def _children(pid: int) -> Iterator[int]:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                yield int(entry.name)


def test_kill_9_while_reading_a_mixed_folder_leaves_each_file_fully_in_or_out(tmp_path: Path) -> None:
    folder, data = tmp_path / "corpus", tmp_path / "data"
    every_format_corpus(folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_DATA_DIR=str(data), QA_LLM="llamacpp", QA_OLLAMA_HOST="http://127.0.0.1:9")
    cmd = [sys.executable, "-m", "qa.cli", "index", "--corpus", str(folder)]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    deadline = time.monotonic() + 240
    while _committed_rows(data) < 4 and proc.poll() is None and time.monotonic() < deadline:
        workers |= set(_children(proc.pid))
        time.sleep(0.02)
    workers |= set(_children(proc.pid))
    assert proc.poll() is None, "indexing finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert workers, "no reader worker was seen"
    gone = time.monotonic() + 10
    while any(Path(f"/proc/{w}").exists() for w in workers) and time.monotonic() < gone:
        time.sleep(0.05)
    assert not any(Path(f"/proc/{w}").exists() and "index.extract" in _cmdline(w) for w in workers)

    settings = Settings(data_dir=data, corpus_dir=folder)
    store = _store(settings)
    manifest = store.manifest()
    assert 4 <= len(manifest) < 25
    sentences, _ = store.all_sentences()
    for file in manifest:  # every committed file is whole: its text and all its sentences
        kept = store.text(file)
        assert kept is not None
        mine = [s for s in sentences if s.file == file]
        assert len(mine) == len(evidence_sentences(file, kept.text, MAX_CHARS)[0])
        assert all(kept.text[s.start : s.end] == s.text for s in mine)
    assert {s.file for s in sentences} <= set(manifest)  # nothing half-written is visible
    del store

    again = index_corpus(settings.index)
    assert len(again.added) + len(again.unchanged) == 25 and sorted(again.unchanged) == sorted(manifest)
    assert _store(settings).count() == len(_store(settings).all_sentences()[0])  # leftovers swept


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
