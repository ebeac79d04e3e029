"""A format's name → its reader, in this process."""

from __future__ import annotations

from index.extract.docx import read_docx
from index.extract.formats import Extracted, ExtractError, Limits
from index.extract.html import read_html
from index.extract.markdown import read_markdown
from index.extract.pdf import read_pdf
from index.extract.text import read_txt


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
