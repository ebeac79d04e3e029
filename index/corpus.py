"""A folder of articles → (articles, skipped). Only UTF-8 `.txt` files at the top level are read."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from index.errors import CorpusError

log = logging.getLogger(__name__)
MAX_FILE_BYTES = 20 * 1024 * 1024
# A line this long is not prose (a minified page, a table dump): indexed, but said so.
LONG_LINE_CHARS = 100_000


@dataclass(frozen=True)
class Article:
    """One article: its file name (the citation's `file`), its exact text, and a content hash."""

    file: str
    text: str
    sha256: str


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    file: str
    reason: str


def read_article(path: Path) -> Article | Skipped:
    """Read one file, or say why it cannot be used."""
    name = path.name
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return Skipped(name, f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        raw = path.read_bytes()
    except OSError as e:
        return Skipped(name, f"unreadable ({e.strerror})")
    if b"\x00" in raw[:8192]:
        return Skipped(name, "binary (contains NUL bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return Skipped(name, f"not UTF-8 (bad byte at offset {e.start}); re-save it as UTF-8")
    if not text.strip():
        return Skipped(name, "empty")
    return Article(name, text, hashlib.sha256(raw).hexdigest())


def load_corpus(folder: Path) -> tuple[list[Article], list[Skipped]]:
    """Read every `*.txt` in `folder` (sorted by name). Bad files are skipped with a warning."""
    if not folder.is_dir():
        raise CorpusError(f"Corpus folder {folder} does not exist: pass --corpus DIR or set QA_CORPUS_DIR.")
    articles: list[Article] = []
    skipped: list[Skipped] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() != ".txt" or not path.is_file():
            continue
        got = read_article(path)
        if isinstance(got, Skipped):
            log.warning("skipping %s: %s", got.file, got.reason)
            skipped.append(got)
        else:
            longest = max((len(line) for line in got.text.splitlines()), default=0)
            if longest > LONG_LINE_CHARS:
                log.warning(
                    "%s has a line of %d characters: indexed, with sentences over the length limit cut at "
                    "spaces; check that it is an article",
                    got.file,
                    longest,
                )
            articles.append(got)
    return articles, skipped
