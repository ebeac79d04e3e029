"""A folder of articles → (articles, skipped).

The files at the top level of the folder whose suffix is read (`index.extract.FORMATS`: .txt, .md, .html,
.htm, .pdf, .docx) are articles; hidden files and other suffixes are left alone, except document formats
that are not read (.doc, .odt, …), which are skipped with a reason so nobody wonders where they went.
An article's `text` is the text read from it (for .txt the file itself), and its `sha256` the hash of the
raw file: the version the index stores.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from index.errors import CorpusError
from index.extract import LABELS, UNSUPPORTED, Extracted, Limits, Reader, format_of

log = logging.getLogger(__name__)
# A line this long is not prose (a minified page, a table dump): indexed, but said so.
LONG_LINE_CHARS = 100_000


@dataclass(frozen=True)
class Article:
    """One article: its file name (the citation's `file`), the exact text read from it, and the content
    hash of the raw file. `format`, `title`, `date` and `pages` come from the reader (`index/extract/`);
    `stamp` names the reader that produced `text`."""

    file: str
    text: str
    sha256: str
    format: str = "txt"
    title: str = ""
    date: str = ""
    pages: tuple[int, ...] = ()
    stamp: str = ""

    def extracted(self) -> Extracted:
        """The text and what came with it, as the store keeps it."""
        return Extracted(self.text, self.format, self.title, self.date, self.pages, self.stamp)


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    file: str
    reason: str
    format: str = ""


@dataclass(frozen=True)
class Candidate:
    """A file of the folder that is read as an article, before it is read."""

    path: Path
    format: str

    @property
    def file(self) -> str:
        """The file name: the article's name in the index."""
        return self.path.name


def scan(folder: Path) -> tuple[list[Candidate], list[Skipped]]:
    """The files of `folder` that are read (sorted by name), and the document files that are not."""
    if not folder.is_dir():
        raise CorpusError(f"Corpus folder {folder} does not exist: pass --corpus DIR or set QA_CORPUS_DIR.")
    found: list[Candidate] = []
    refused: list[Skipped] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        fmt = format_of(path)
        if fmt is not None:
            found.append(Candidate(path, fmt))
        elif path.suffix.lower() in UNSUPPORTED:
            refused.append(Skipped(path.name, UNSUPPORTED[path.suffix.lower()], path.suffix.lower()[1:]))
    return found, refused


def read_raw(c: Candidate, limits: Limits) -> bytes | Skipped:
    """The file's bytes, or why they cannot be used (too large, unreadable)."""
    try:
        size = c.path.stat().st_size
        if size > limits.max_file_bytes:
            return Skipped(c.file, f"larger than {limits.max_file_bytes / (1024 * 1024):g} MB", c.format)
        return c.path.read_bytes()
    except OSError as e:
        return Skipped(c.file, f"unreadable ({e.strerror})", c.format)


def content_hash(raw: bytes) -> str:
    """The version of a file: the SHA-256 of its raw bytes."""
    return hashlib.sha256(raw).hexdigest()


def to_article(c: Candidate, sha256: str, got: Extracted) -> Article:
    """The Article for a file whose text was read; what the reader noticed is logged as a warning."""
    for w in got.warnings:
        log.warning("%s: %s", c.file, w)
    longest = max((len(line) for line in got.text.splitlines()), default=0)
    if longest > LONG_LINE_CHARS:
        log.warning(
            "%s has a line of %d characters: indexed, with sentences over the length limit cut at spaces; "
            "check that it is an article",
            c.file,
            longest,
        )
    return Article(c.file, got.text, sha256, got.format, got.title, got.date, got.pages, got.stamp)


def load_corpus(folder: Path, limits: Limits | None = None) -> tuple[list[Article], list[Skipped]]:
    """Read every article of `folder` (sorted by name). Bad files are skipped with a warning naming them."""
    candidates, skipped = scan(folder)
    lim = limits or Limits()
    articles: list[Article] = []
    for sk in skipped:
        log.warning("skipping %s: %s", sk.file, sk.reason)
    with Reader(lim) as reader:
        reader.start(c.format for c in candidates)
        for (c, sha), read in reader.read_all(raw_items(candidates, lim)):
            if read.extracted is None:
                sk = Skipped(c.file, read.reason or "unreadable", c.format)
                log.warning("skipping %s: %s", sk.file, sk.reason)
                skipped.append(sk)
            else:
                articles.append(to_article(c, sha, read.extracted))
    return articles, skipped


RawItem = tuple[tuple[Candidate, str], str, bytes | str]


def raw_items(candidates: Iterable[Candidate], limits: Limits) -> Iterator[RawItem]:
    """(candidate, hash) keys with each file's bytes, read one at a time, for Reader.read_all (a reason
    string instead of bytes when the file cannot be used)."""
    for c in candidates:
        raw = read_raw(c, limits)
        if isinstance(raw, Skipped):
            yield (c, ""), c.format, raw.reason
        else:
            yield (c, content_hash(raw)), c.format, raw


def label(fmt: str) -> str:
    """What a person calls a format ("PDF", "Word"), for progress and summaries."""
    return LABELS.get(fmt, fmt or "other")
