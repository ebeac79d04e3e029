"""A file's raw bytes → the text that is read from it: the text every sentence span indexes.

One reader per format, each through a maintained library (never a hand-written parser):

- text (.txt): UTF-8, as it is;
- Markdown (.md, .markdown): the words of markdown-it-py's token stream (headings, paragraphs, list items,
  quotes, table rows, code), without markup or embedded HTML; title and date from YAML front matter;
- HTML (.html, .htm): trafilatura's main text, title and date; navigation, share bars, related links,
  cookie notices, scripts and styles are left out;
- PDF (.pdf): pypdf's text layer, page by page; lines re-joined into paragraphs from their positions,
  running headers, footers and page numbers dropped;
- Word (.docx): python-docx, the body's paragraphs and table rows in document order (no headers, footers or
  comments).

What a reader returns is an `Extracted`: the text (blocks separated by a blank line), the format, a title and
date where the file has them, and for a PDF the offset at which each page's text starts, so any sentence's
page is known from its start. Each format's reader has a version (`READER_VERSIONS`), stamped on every
article with the version of its library (`stamp`): a change to either re-extracts that format's files on the
next `qa index`, as a change of embedding model is refused until a rebuild.

Files other than .txt are read by a separate worker process (`Reader`) that has a memory limit
(RLIMIT_AS), and each file a time limit: a file that takes too long, or needs too much memory, or crashes
the library, kills only the worker. That file is skipped with the reason, a fresh worker reads the next one.
Hostile input is refused early with a reason: encrypted or malformed PDFs, too many pages, a .docx whose
zip inflates far beyond its size, binary data under an .html name, a page with nothing but markup.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import io
import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from index.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

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

# A .docx is a zip: refuse one whose members inflate beyond this, or far beyond the file's own size.
DOCX_MAX_UNZIPPED = 256 * 1024 * 1024
DOCX_MAX_RATIO = 100
DOCX_MAX_MEMBERS = 10_000
# Fewer non-space characters per page than this, over the whole file: no text layer (a scan).
MIN_CHARS_PER_PAGE = 20
# Share of decoded characters that may be control or replacement characters before "binary".
_MAX_JUNK = 0.02
_BLOCK_SEP = "\n\n"


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
    def from_settings(cls, settings: Settings) -> Limits:
        """The limits a Settings object configures."""
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


# ---- shared checks ----------------------------------------------------------------------------------------
def _decode_text(raw: bytes, what: str) -> str:
    if b"\x00" in raw[:8192]:
        raise ExtractError("binary (contains NUL bytes)" if what == "txt" else f"binary, not {what}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ExtractError(f"not UTF-8 (bad byte at offset {e.start}); re-save it as UTF-8") from e


def _junk_share(text: str) -> float:
    sample = text[:65536]
    if not sample:
        return 0.0
    bad = sum(1 for c in sample if c == "\ufffd" or (ord(c) < 32 and c not in "\t\n\r\f"))
    return bad / len(sample)


_WS = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000]+")


def _clean_block(text: str) -> str:
    """One block as one line: inner whitespace runs (line breaks included) become one space."""
    return _WS.sub(" ", " ".join(text.split("\n"))).strip()


def _join_blocks(blocks: Sequence[str]) -> str:
    return _BLOCK_SEP.join(b for b in blocks if b)


# ---- .txt -------------------------------------------------------------------------------------------------
def read_txt(raw: bytes) -> Extracted:
    """A UTF-8 text file, exactly as it is."""
    text = _decode_text(raw, "txt")
    if not text.strip():
        raise ExtractError("empty")
    return Extracted(text=text, format="txt", stamp=stamp("txt"))


# ---- .md --------------------------------------------------------------------------------------------------
_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)


def _front_matter(text: str) -> tuple[dict[str, Any], str]:
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text
    import yaml

    try:
        meta = yaml.safe_load(m.group(1))
    except yaml.YAMLError:
        return {}, text
    return (meta if isinstance(meta, dict) else {}), text[m.end() :]


def read_markdown(raw: bytes) -> Extracted:
    """Markdown as plain text: each heading, paragraph, list item, table row and code line one line, the
    markup gone (emphasis, links and images keep only their words; embedded HTML is dropped)."""
    from markdown_it import MarkdownIt

    source = _decode_text(raw, "Markdown")
    meta, body = _front_matter(source)
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    blocks: list[str] = []
    heading = ""
    in_heading = in_cell = False
    row: list[str] = []
    for tok in md.parse(body):
        if tok.type == "heading_open":
            in_heading = True
        elif tok.type == "heading_close":
            in_heading = False
        elif tok.type in ("th_open", "td_open"):
            in_cell = True
        elif tok.type in ("th_close", "td_close"):
            in_cell = False
        elif tok.type == "tr_close":
            blocks.append(" | ".join(c for c in row if c))
            row = []
        elif tok.type == "inline":
            words = _clean_block(_inline_text(tok.children or []))
            if in_cell:
                row.append(words)
                continue
            if in_heading and not heading:
                heading = words
            blocks.append(words)
        elif tok.type in ("fence", "code_block"):
            blocks.extend(_clean_block(line) for line in tok.content.splitlines())
        # html_block, hr, list and quote markers: markup, nothing to read
    text = _join_blocks([_clean_block(b) for b in blocks])
    if not text.strip():
        raise ExtractError("no text once the Markdown markup is removed")
    title = str(meta.get("title") or heading or "")
    date = meta.get("date")
    return Extracted(
        text=text,
        format="md",
        title=_clean_block(title),
        date=str(date)[:10] if date else "",
        stamp=stamp("md"),
    )


def _inline_text(children: Sequence[Any]) -> str:
    out: list[str] = []
    for c in children:
        if c.type in ("text", "code_inline"):
            out.append(c.content)
        elif c.type in ("softbreak", "hardbreak"):
            out.append(" ")
        # image (its alt text describes a picture, it is not the article's text), html_inline,
        # link_open/close, em/strong/s open/close: markup, nothing to read
    return "".join(out)


# ---- .html ------------------------------------------------------------------------------------------------
@functools.cache
def _trafilatura_config() -> Any:
    from trafilatura.settings import use_config

    config = use_config()
    # A short article is still the article: by default a main text under 250 characters is replaced by a
    # fallback extraction of the whole page, chrome and all.
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "1")
    return config


def read_html(raw: bytes) -> Extracted:
    """A saved web page: trafilatura's main text, title and date. The text of scripts, styles and
    attributes (event handlers) never reaches it; neither do navigation, share bars or related links."""
    if b"\x00" in raw[:8192]:
        raise ExtractError("binary data, not an HTML page")
    import trafilatura

    for name in ("trafilatura", "htmldate", "courlan", "justext", "charset_normalizer"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    head = raw[:4096].decode("utf-8", "replace")
    if _junk_share(raw[:65536].decode("utf-8", "replace")) > _MAX_JUNK and "<" not in head:
        raise ExtractError("binary data, not an HTML page")
    try:
        doc = trafilatura.bare_extraction(
            raw,
            config=_trafilatura_config(),
            favor_precision=True,  # of two readings of a paragraph's role, the one that drops chrome
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            include_formatting=False,
            deduplicate=False,
        )
    except MemoryError:
        raise
    except Exception as e:  # a library failure on one page is that page's problem, not the run's
        raise ExtractError(f"not a readable HTML page ({type(e).__name__}: {str(e)[:120]})") from e
    body = getattr(doc, "text", None) or ""
    if _junk_share(body) > _MAX_JUNK:
        raise ExtractError("binary data, not an HTML page")
    blocks = [_clean_block(line) for line in body.split("\n")]
    blocks = [b for b in blocks if b]
    if not blocks:
        raise ExtractError("no article text found (only markup, scripts or navigation)")
    title = _clean_block(getattr(doc, "title", None) or "")
    if title and blocks[0] != title:
        blocks.insert(0, title)  # the headline is part of what a reader reads, and may hold the fact
    date = str(getattr(doc, "date", None) or "")[:10]
    return Extracted(text=_join_blocks(blocks), format="html", title=title, date=date, stamp=stamp("html"))


# ---- .pdf -------------------------------------------------------------------------------------------------
_PAGE_NUMBER = re.compile(r"^(page\s*)?\d{1,5}(\s*(of|/)\s*\d{1,5})?$|^[-–—]\s*\d{1,5}\s*[-–—]$", re.I)
_END = re.compile(r"[.!?:;\"”’)\]]$")


@dataclass
class _Line:
    text: str
    y: float | None = None
    size: float = 0.0


def _page_lines(page: Any) -> list[_Line]:
    """The page's text lines (as pypdf breaks them), each with its baseline height and font size."""
    lines = [_Line("")]

    def visit(text: str, cm: Sequence[float], tm: Sequence[float], _font: Any, font_size: float) -> None:
        if not text:
            return
        y = cm[1] * tm[4] + cm[3] * tm[5] + cm[5]
        scale = (tm[2] ** 2 + tm[3] ** 2) ** 0.5 * ((cm[2] ** 2 + cm[3] ** 2) ** 0.5 or 1.0)
        for i, piece in enumerate(text.split("\n")):
            if i:
                lines.append(_Line(""))
            cur = lines[-1]
            if piece.strip() and cur.y is None:
                cur.y, cur.size = y, float(font_size) * (scale or 1.0)
            cur.text += piece

    page.extract_text(visitor_text=visit)
    out = []
    for ln in lines:
        ln.text = _WS.sub(" ", ln.text).strip()
        if ln.text:
            out.append(ln)
    return out


def _norm_edge(text: str) -> str:
    return re.sub(r"\d+", "#", text.lower()).strip()


def _drop_running_lines(pages: list[list[_Line]]) -> None:
    """Remove running headers and footers (the same first or last line on most pages, numbers aside) and
    bare page numbers, in place."""
    n = len(pages)
    for edge in (0, -1):
        if n >= 2:
            counts: dict[str, int] = {}
            for lines in pages:
                if lines:
                    key = _norm_edge(lines[edge].text)
                    counts[key] = counts.get(key, 0) + 1
            running = {k for k, c in counts.items() if c >= max(2, 0.6 * n)}
            for lines in pages:
                if lines and _norm_edge(lines[edge].text) in running:
                    lines.pop(edge)
        for lines in pages:
            if lines and _PAGE_NUMBER.match(lines[edge].text):
                lines.pop(edge)


def _paragraphs(lines: list[_Line], widths: dict[int, int]) -> list[str]:
    """Lines → paragraphs. A paragraph ends after a line much shorter than a full line of its font size
    (`widths`: characters), at a vertical gap well above the usual line spacing, at a change of font size,
    and where the text jumps up (a new column)."""
    if not lines:
        return []
    gaps: dict[int, list[float]] = {}
    for a, b in zip(lines, lines[1:], strict=False):
        if a.y is not None and b.y is not None and abs(a.size - b.size) < 0.5:
            g = a.y - b.y
            if g > 0:
                gaps.setdefault(round(a.size), []).append(g)
    # The usual spacing is the small end of the gaps: on a page of one-line paragraphs the median is the
    # paragraph gap itself.
    leading = {k: sorted(v)[len(v) // 5] for k, v in gaps.items()}
    paras: list[list[str]] = [[lines[0].text]]
    for a, b in zip(lines, lines[1:], strict=False):
        new = len(a.text) < 0.7 * widths.get(round(a.size), 0)
        if not new and a.y is not None and b.y is not None:
            size = max(a.size, b.size, 1.0)
            gap = a.y - b.y
            usual = leading.get(round(a.size), 1.25 * size)
            new = abs(a.size - b.size) > 0.15 * size or gap < -0.5 * size or gap > 1.3 * usual
        if new:
            paras.append([b.text])
        else:
            paras[-1].append(b.text)
    return [_join_lines(p) for p in paras]


def _full_widths(pages: list[list[_Line]]) -> dict[int, int]:
    """Characters in a full line of text, per font size: a high percentile of the line lengths (so a
    stray long line, a URL, does not set it)."""
    by_size: dict[int, list[int]] = {}
    for lines in pages:
        for ln in lines:
            by_size.setdefault(round(ln.size), []).append(len(ln.text))
    return {k: sorted(v)[int(0.9 * (len(v) - 1))] for k, v in by_size.items()}


def _join_lines(parts: list[str]) -> str:
    out = parts[0]
    for nxt in parts[1:]:
        if out.endswith("\u00ad"):
            out = out[:-1] + nxt  # a soft hyphen marks a word broken at the line's end
        elif len(out) > 1 and out.endswith("-") and out[-2].isalpha() and nxt[:1].islower():
            out += nxt  # keep the hyphen: "pro-" + "government" is a compound more often than not
        else:
            out += " " + nxt
    return out


def read_pdf(raw: bytes, max_pages: int) -> Extracted:
    """A PDF's text layer, page by page. Encrypted files that need a password, malformed files, files
    with more than `max_pages` pages and files without a text layer (scans) are refused."""
    import pypdf
    from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError

    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    if not raw.lstrip()[:1024].startswith(b"%PDF") and b"%PDF-" not in raw[:1024]:
        raise ExtractError("not a PDF (no %PDF header)")
    try:
        reader = pypdf.PdfReader(io.BytesIO(raw), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except DependencyError as e:
                raise ExtractError(f"encrypted in a way this reader cannot open ({e})") from e
            if not opened:
                raise ExtractError("encrypted: it needs a password; save an unprotected copy to index it")
        # The page tree's own count first: counting by walking the tree costs seconds on a huge file.
        root: Any = reader.trailer["/Root"]
        declared = root["/Pages"].get("/Count", 0)
        if isinstance(declared, int) and declared > max_pages:
            raise ExtractError(f"has {declared:,} pages; the limit is {max_pages:,} (QA_MAX_PDF_PAGES)")
        n = len(reader.pages)
        if n == 0:
            raise ExtractError("a PDF without pages")
        if n > max_pages:
            raise ExtractError(f"has {n:,} pages; the limit is {max_pages:,} (QA_MAX_PDF_PAGES)")
        page_lines = [_page_lines(p) for p in reader.pages]
        meta = reader.metadata
    except ExtractError:
        raise
    except FileNotDecryptedError as e:
        raise ExtractError("encrypted: it needs a password; save an unprotected copy to index it") from e
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as e:
        raise ExtractError(f"not a readable PDF ({type(e).__name__}: {str(e)[:120]})") from e
    chars = sum(len(ln.text) for lines in page_lines for ln in lines)
    if chars < MIN_CHARS_PER_PAGE * n:
        raise ExtractError(
            "no text layer (a scanned PDF?): run OCR on it (e.g. `ocrmypdf in.pdf out.pdf`) and index "
            "the result"
        )
    empty = sum(1 for lines in page_lines if not lines)
    _drop_running_lines(page_lines)
    widths = _full_widths(page_lines)
    text, starts = _pages_text([_paragraphs(lines, widths) for lines in page_lines])
    warnings = (f"{empty} of {n} pages have no text layer (scanned pages are not read)",) if empty else ()
    title = date = ""
    if meta is not None:
        title = _clean_block(str(meta.title or ""))
        try:
            created = meta.creation_date
        except Exception:  # a malformed date string is not worth refusing the file for
            created = None
        date = created.date().isoformat() if created else ""
    return Extracted(
        text=text,
        format="pdf",
        title=title,
        date=date,
        pages=tuple(starts),
        stamp=stamp("pdf"),
        warnings=warnings,
    )


def _pages_text(pages: list[list[str]]) -> tuple[str, list[int]]:
    """Join the pages' paragraphs; a paragraph that runs on to the next page (no sentence end, the next
    page starting in lower case) is joined across the break. Returns the text and each page's start."""
    text = ""
    starts: list[int] = []
    for paras in pages:
        paras = list(paras)
        if text and paras and not _END.search(text) and paras[0][:1].islower():
            text += " "
            starts.append(len(text))
            text += paras.pop(0)
            if paras:
                text += _BLOCK_SEP
        else:
            if text and paras:
                text += _BLOCK_SEP
            starts.append(len(text))
        text += _join_blocks(paras)
    return text, starts


# ---- .docx ------------------------------------------------------------------------------------------------
def _check_zip(raw: bytes) -> None:
    import zipfile

    try:
        z = zipfile.ZipFile(io.BytesIO(raw))
        infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise ExtractError(f"not a Word .docx file (not a zip archive: {e})") from e
    if len(infos) > DOCX_MAX_MEMBERS:
        raise ExtractError(f"a zip of {len(infos):,} files, not a Word document")
    unzipped = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if unzipped > DOCX_MAX_UNZIPPED or (unzipped > 10 * 1024 * 1024 and unzipped / packed > DOCX_MAX_RATIO):
        raise ExtractError(
            f"a zip bomb: {packed / 1024:,.0f} KB that would inflate to {unzipped / 1024 / 1024:,.0f} MB"
        )
    if "word/document.xml" not in {i.filename for i in infos}:
        raise ExtractError("not a Word .docx file (no word/document.xml)")


def read_docx(raw: bytes) -> Extracted:
    """A Word document's body: paragraphs and table cells in document order."""
    _check_zip(raw)
    import docx
    from docx.table import Table

    try:
        d = docx.Document(io.BytesIO(raw))
        blocks: list[str] = []
        heading = ""
        for item in d.iter_inner_content():
            if isinstance(item, Table):
                for r in item.rows:
                    cells = list(dict.fromkeys(_clean_block(c.text) for c in r.cells))
                    blocks.append(" | ".join(c for c in cells if c))
                continue
            text = _clean_block(item.text)
            # The style id from the paragraph's own XML: looking up the style object costs a search of
            # the styles part per paragraph.
            style = str(item._p.style or "")
            if text and not heading and (style == "Title" or style.startswith("Heading")):
                heading = text
            blocks.append(text)
        props = d.core_properties
        title = _clean_block(props.title or "") or heading
        date = props.created.date().isoformat() if props.created else ""
    except (ExtractError, MemoryError):
        raise
    except Exception as e:  # python-docx raises many types on a damaged package
        raise ExtractError(f"not a readable Word document ({type(e).__name__}: {str(e)[:120]})") from e
    text = _join_blocks(blocks)
    if not text.strip():
        raise ExtractError("a Word document without text")
    return Extracted(text=text, format="docx", title=title, date=date, stamp=stamp("docx"))


# ---- dispatch ---------------------------------------------------------------------------------------------
def extract_bytes(fmt: str, raw: bytes, limits: Limits | None = None) -> Extracted:
    """Read `raw` as format `fmt` in this process (no time or memory limit: `Reader` adds those).
    Raises ExtractError with the reason a file cannot be used."""
    lim = limits or Limits()
    if fmt == "txt":
        return read_txt(raw)
    if not raw.strip():
        raise ExtractError("empty")
    if fmt == "md":
        return read_markdown(raw)
    if fmt == "html":
        return read_html(raw)
    if fmt == "pdf":
        return read_pdf(raw, lim.max_pdf_pages)
    if fmt == "docx":
        return read_docx(raw)
    raise ExtractError(f"format {fmt!r} is not read")


# ---- the worker process -----------------------------------------------------------------------------------
# What the worker imports as it starts, for the formats of the folder (while the indexer loads its model).
_IMPORTS: dict[str, tuple[str, ...]] = {
    "md": ("markdown_it", "yaml"),
    "html": ("trafilatura",),
    "pdf": ("pypdf",),
    "docx": ("docx",),
}
# The longest a fresh worker may take to import its libraries before the first file is sent.
_START_S = 60.0


def _to_json(x: Extracted) -> dict[str, Any]:
    return asdict(x)


def _from_json(d: dict[str, Any]) -> Extracted:
    return Extracted(
        text=d["text"],
        format=d["format"],
        title=d.get("title", ""),
        date=d.get("date", ""),
        pages=tuple(int(p) for p in d.get("pages", ())),
        stamp=d.get("stamp", ""),
        warnings=tuple(d.get("warnings", ())),
    )


def _serve(fd_in: int, fd_out: int, memory_mb: int, formats: str) -> None:
    """The worker: limit its own memory, import the libraries for `formats`, say "ready", then answer each
    (header, raw bytes) with {"ok", "extracted" or "reason", "seconds"}."""
    import importlib
    import resource
    from multiprocessing.connection import Connection

    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    logging.disable(logging.CRITICAL)
    conn_in, conn_out = Connection(fd_in, writable=False), Connection(fd_out, readable=False)
    for fmt in filter(None, formats.split(",")):
        # Import the library and read a small sample once: a library's first file costs it several times
        # its next (lazy set-up); paid here, while the indexer loads its model. A library that fails
        # says so when a file of its format is read.
        with contextlib.suppress(Exception):
            for module in _IMPORTS.get(fmt, ()):
                importlib.import_module(module)
            extract_bytes(fmt, _sample(fmt))
    conn_out.send_bytes(b"ready")
    while True:
        try:
            header = json.loads(conn_in.recv_bytes())
            raw = conn_in.recv_bytes()
        except (EOFError, OSError):
            return  # the indexer closed the pipe (or died): nothing more to read
        t0 = time.perf_counter()
        answer: dict[str, Any] = {"ok": False}
        fatal = False
        try:
            got = extract_bytes(header["format"], raw, Limits(max_pdf_pages=int(header["max_pdf_pages"])))
            answer = {"ok": True, "extracted": _to_json(got)}
        except ExtractError as e:
            answer["reason"] = str(e)
        except MemoryError:
            answer["reason"] = _memory_reason(memory_mb)
            fatal = True  # the heap may be in a bad state: a fresh worker reads the next file
        except Exception as e:  # a library bug on one file skips that file, with what it said
            what = LABELS.get(header["format"], "")
            answer["reason"] = f"the {what} reader failed ({type(e).__name__}: {str(e)[:160]})"
        del raw
        answer["seconds"] = time.perf_counter() - t0
        conn_out.send_bytes(json.dumps(answer, ensure_ascii=False).encode("utf-8"))
        if fatal:
            return


def _sample(fmt: str) -> bytes:
    """A small valid file of format `fmt`, to warm its reader."""
    words = "The worker reads this sample once, so the first real file of its kind is read at full speed."
    if fmt == "html":
        page = f"<html><head><title>Sample</title></head><body><article><p>{words}</p></article></body>"
        return page.encode()
    if fmt == "pdf":
        return text_pdf(1, words)
    if fmt == "docx":
        import docx

        d = docx.Document()
        d.add_paragraph(words)
        buf = io.BytesIO()
        d.save(buf)
        return buf.getvalue()
    return f"# Sample\n\n{words}\n".encode()


def text_pdf(pages: int, text: str = "", lines: int = 20) -> bytes:
    """A valid PDF of `pages` pages sharing one content stream: blank when `text` is empty, else `text` on
    `lines` lines of every page (Helvetica, so `text` should be Latin-1)."""
    content = b""
    if text:
        safe = text.replace("\\", "").replace("(", "").replace(")", "")
        shown = " ".join(f"({safe}) Tj 0 -14 Td" for _ in range(lines))
        content = f"BT /F1 11 Tf 72 720 Td {shown} ET".encode("latin-1", "replace")
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
    objects += [page + b"/Contents 4 0 R >>"] * pages
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _memory_reason(memory_mb: int) -> str:
    return f"needed more than {memory_mb} MB of memory to read (QA_EXTRACT_MEMORY_MB)"


@dataclass(frozen=True)
class Read:
    """One file's outcome from `Reader.read_all`: the text read or why not, and the seconds reading took
    (in the worker, for formats other than .txt)."""

    extracted: Extracted | None
    reason: str | None
    seconds: float


class Reader:
    """Reads files into `Extracted`, each non-.txt file in a worker process with a memory limit and a
    per-file time limit. Use as a context manager. `start` launches the worker early, so it imports its
    libraries while the caller does other work; otherwise it starts on the first file that needs it.

    A file that runs out of time, out of memory or crashes the worker is refused with the reason; the
    worker is replaced, so the next file is read as if nothing happened.
    """

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._proc: subprocess.Popen[bytes] | None = None
        self._conn_in: Connection | None = None
        self._conn_out: Connection | None = None
        self._ready = False
        self._formats: tuple[str, ...] = ()
        self._deadline: float | None = None  # set while a file is in the worker
        self.started = 0  # workers started (1 unless a file had to be stopped by killing one)

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self, formats: Iterable[str]) -> None:
        """Start the worker now (if any of `formats` needs it), importing those formats' libraries."""
        self._formats = tuple(sorted(set(formats) - {"txt"}))
        if self._formats and self._proc is None:
            self._spawn()

    def read(self, fmt: str, raw: bytes) -> Extracted:
        """The text of `raw` read as `fmt`; ExtractError with the reason when it cannot be used."""
        if fmt == "txt":
            return read_txt(raw)
        self._submit(fmt, raw)
        got = self._collect()
        if got.extracted is None:
            raise ExtractError(got.reason or "unreadable")
        return got.extracted

    def read_all(self, items: Iterable[tuple[T, str, bytes | str]]) -> Iterator[tuple[T, Read]]:
        """Read each (key, format, raw bytes) in order; a str instead of bytes is a reason the file already
        cannot be used, passed through. While the caller handles one result, the worker is already reading
        the next file (its time limit runs from when it was sent)."""
        held: list[T] = []  # the key of the file in the worker, if one is
        for key, fmt, raw in items:
            done: list[tuple[T, Read]] = []
            if held:
                done.append((held.pop(), self._collect()))
            if isinstance(raw, str):
                done.append((key, Read(None, raw, 0.0)))
            elif fmt == "txt":
                t0 = time.perf_counter()
                try:
                    done.append((key, Read(read_txt(raw), None, time.perf_counter() - t0)))
                except ExtractError as e:
                    done.append((key, Read(None, str(e), time.perf_counter() - t0)))
            else:
                try:
                    self._submit(fmt, raw)
                    held.append(key)
                except ExtractError as e:
                    done.append((key, Read(None, str(e), 0.0)))
            yield from done
        if held:
            yield held.pop(), self._collect()

    # ---- the worker ---------------------------------------------------------------------------------
    def _submit(self, fmt: str, raw: bytes) -> None:
        """Send one file to the worker (starting one if needed); its time limit starts now."""
        if len(raw) > self.limits.max_file_bytes:
            raise ExtractError(f"larger than {self.limits.max_file_bytes / 1024 / 1024:g} MB")
        if fmt not in self._formats:
            self._formats = tuple(sorted({*self._formats, fmt}))
        conn_out, conn_in = self._spawn()
        if not self._ready:
            try:
                if not conn_in.poll(max(_START_S, self.limits.timeout_s)) or conn_in.recv_bytes() != b"ready":
                    raise EOFError
            except (EOFError, OSError) as e:
                code = self._kill()
                raise ExtractError(
                    f"the reader process did not start (exit status {code}); with QA_EXTRACT_MEMORY_MB="
                    f"{self.limits.memory_mb} it may lack the memory to load its libraries"
                ) from e
            self._ready = True
        header = {"format": fmt, "max_pdf_pages": self.limits.max_pdf_pages}
        try:
            conn_out.send_bytes(json.dumps(header).encode())
            conn_out.send_bytes(raw)
        except OSError as e:
            self._kill()
            raise ExtractError(f"the reader process failed ({e})") from e
        self._deadline = time.monotonic() + self.limits.timeout_s

    def _collect(self) -> Read:
        """Wait (until its deadline) for the file in the worker."""
        assert self._deadline is not None and self._conn_in is not None
        deadline, self._deadline = self._deadline, None
        t0 = time.monotonic()
        try:
            if not self._conn_in.poll(max(0.0, deadline - t0)):
                self._kill()
                return Read(
                    None,
                    f"took longer than {self.limits.timeout_s:g} s to read, so it was stopped "
                    "(QA_EXTRACT_TIMEOUT_S)",
                    self.limits.timeout_s,
                )
            answer = json.loads(self._conn_in.recv_bytes())
        except (EOFError, OSError, ValueError):
            code = self._kill()
            return Read(
                None,
                f"the reader process died reading it (exit status {code}); it probably needed more than "
                f"{self.limits.memory_mb} MB of memory (QA_EXTRACT_MEMORY_MB)",
                time.monotonic() - t0,
            )
        seconds = float(answer.get("seconds", 0.0))
        if self._proc is not None and self._proc.poll() is not None:
            self._kill()  # it exited after answering (out of memory): a fresh one reads the next file
        if answer.get("ok"):
            # Stamped here, not in the worker: the stamp names the reader this process expects.
            got = _from_json(answer["extracted"])
            return Read(replace(got, stamp=stamp(got.format)), None, seconds)
        return Read(None, str(answer.get("reason") or "unreadable"), seconds)

    def _spawn(self) -> tuple[Connection, Connection]:
        from multiprocessing.connection import Connection

        if self._proc is not None and self._proc.poll() is None and self._conn_in and self._conn_out:
            return self._conn_out, self._conn_in
        self._kill()
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        args = [str(to_child_r), str(from_child_w), str(self.limits.memory_mb), ",".join(self._formats)]
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "index.extract", *args],
                pass_fds=(to_child_r, from_child_w),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
                cwd=root,
            )
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self.started += 1
        self._ready = False
        self._conn_out = Connection(to_child_w, readable=False)
        self._conn_in = Connection(from_child_r, writable=False)
        return self._conn_out, self._conn_in

    def _kill(self) -> int | None:
        """Stop the worker (if any) at once and return its exit status."""
        code = None
        for conn in (self._conn_out, self._conn_in):
            if conn is not None:
                conn.close()
        self._conn_out = self._conn_in = None
        self._deadline = None
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            code = self._proc.wait()
            self._proc = None
        return code

    def close(self) -> None:
        """End the worker: close its pipe (an idle worker exits on end of input); one still busy (or still
        importing, if no file needed it) is killed."""
        proc = self._proc
        busy = self._deadline is not None or not self._ready
        for conn in (self._conn_out, self._conn_in):
            if conn is not None:
                conn.close()
        self._conn_out = self._conn_in = None
        self._deadline = None
        if proc is not None:
            try:
                if busy:
                    raise subprocess.TimeoutExpired(proc.args, 0)
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            self._proc = None


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else "")
