"""Which files are read and what reading one gives: the formats by suffix, the `Extracted` result, the
limits a file is read under, the error a reader raises, and the stamp naming the reader of a file's text."""

from __future__ import annotations

import bisect
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index.settings import IndexSettings


# suffix → format
FORMATS: dict[str, str] = {
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
# format → what a person calls it (progress bar, summary)
LABELS: dict[str, str] = {"txt": "text", "md": "Markdown", "html": "HTML", "pdf": "PDF", "docx": "Word"}
# Document formats people keep that are not read: said so, instead of being ignored in silence.
UNSUPPORTED: dict[str, str] = {
    ".doc": "Word 97-2003 (.doc) is not read: save it as .docx",
    ".rtf": "RTF is not read: save it as .docx or .txt",
    ".odt": "OpenDocument (.odt) is not read: save it as .docx",
    ".pages": "Pages documents are not read: export it as .docx or PDF",
    ".epub": "EPUB is not read: convert it to HTML or PDF",
    ".mht": "web archives (.mht) are not read: save the page as HTML",
    ".mhtml": "web archives (.mhtml) are not read: save the page as HTML",
}
# Bump a format's number whenever its reader's output can change: its files are then read again.
READER_VERSIONS: dict[str, int] = {"txt": 1, "md": 1, "html": 1, "pdf": 1, "docx": 1}
_LIBRARIES: dict[str, str] = {
    "md": "markdown-it-py",
    "html": "trafilatura",
    "pdf": "pypdf",
    "docx": "python-docx",
}
# The stamp an index written before stamps existed carries implicitly (it read .txt only, as txt:1 does).
LEGACY_STAMP = "txt:1"


class ExtractError(Exception):
    """The file cannot be read; `str(e)` says why and what to do (without the file name)."""


@dataclass(frozen=True)
class Limits:
    """What one file may cost: bytes on disk, pages, seconds and memory to read it."""

    max_file_bytes: int = 20 * 1024 * 1024
    max_pdf_pages: int = 2000
    timeout_s: float = 30.0
    memory_mb: int = 1024

    @classmethod
    def from_settings(cls, settings: IndexSettings) -> Limits:
        """The limits the index settings configure."""
        return cls(
            max_file_bytes=int(settings.max_file_mb * 1024 * 1024),
            max_pdf_pages=settings.max_pdf_pages,
            timeout_s=settings.extract_timeout_s,
            memory_mb=settings.extract_memory_mb,
        )


@dataclass(frozen=True)
class Extracted:
    """The text read from one file, and what else the file said about itself.

    `pages` (PDF only) holds the offset in `text` where each page's text starts, page 1 first.
    """

    text: str
    format: str
    title: str = ""
    date: str = ""
    pages: tuple[int, ...] = ()
    stamp: str = ""
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def page_at(self, offset: int) -> int | None:
        """The 1-based page on which character `offset` lies; None for a format without pages."""
        return page_at(self.pages, offset)


def page_at(pages: Sequence[int], offset: int) -> int | None:
    """The 1-based page holding `offset`, given each page's start offset; None when there are no pages."""
    if not pages:
        return None
    return max(1, bisect.bisect_right(pages, offset))


def format_of(path: Path | str) -> str | None:
    """The format read from a file of this name, or None when its suffix is not read."""
    return FORMATS.get(Path(path).suffix.lower())


@functools.cache
def stamp(fmt: str) -> str:
    """`<format>:<reader version>` plus the library and its version: what produced a file's text."""
    base = f"{fmt}:{READER_VERSIONS[fmt]}"
    lib = _LIBRARIES.get(fmt)
    if lib is None:
        return base
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{base} {lib}=={version(lib)}"
    except PackageNotFoundError:
        return f"{base} {lib}"
