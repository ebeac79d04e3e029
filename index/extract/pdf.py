"""PDF (.pdf): pypdf's text layer, page by page, its lines re-joined into paragraphs from their positions
and running headers, footers and page numbers dropped; and `text_pdf`, a minimal PDF writer."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from index.extract.formats import Extracted, ExtractError, stamp
from index.extract.text import BLOCK_SEP, WHITESPACE, clean_block, join_blocks

# Fewer non-space characters per page than this, over the whole file: no text layer (a scan).
MIN_CHARS_PER_PAGE = 20
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
        ln.text = WHITESPACE.sub(" ", ln.text).strip()
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
        title = clean_block(str(meta.title or ""))
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
                text += BLOCK_SEP
        else:
            if text and paras:
                text += BLOCK_SEP
            starts.append(len(text))
        text += join_blocks(paras)
    return text, starts


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
