"""Word (.docx): python-docx, the body's paragraphs and table rows in document order, after a check that
the zip is no bomb."""

from __future__ import annotations

import io

from index.extract.formats import Extracted, ExtractError, stamp
from index.extract.text import clean_block, join_blocks

# A .docx is a zip: refuse one whose members inflate beyond this, or far beyond the file's own size.
DOCX_MAX_UNZIPPED = 256 * 1024 * 1024
DOCX_MAX_RATIO = 100
DOCX_MAX_MEMBERS = 10_000


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
                    cells = list(dict.fromkeys(clean_block(c.text) for c in r.cells))
                    blocks.append(" | ".join(c for c in cells if c))
                continue
            text = clean_block(item.text)
            # The style id from the paragraph's own XML: looking up the style object costs a search of
            # the styles part per paragraph.
            style = str(item._p.style or "")
            if text and not heading and (style == "Title" or style.startswith("Heading")):
                heading = text
            blocks.append(text)
        props = d.core_properties
        title = clean_block(props.title or "") or heading
        date = props.created.date().isoformat() if props.created else ""
    except (ExtractError, MemoryError):
        raise
    except Exception as e:  # python-docx raises many types on a damaged package
        raise ExtractError(f"not a readable Word document ({type(e).__name__}: {str(e)[:120]})") from e
    text = join_blocks(blocks)
    if not text.strip():
        raise ExtractError("a Word document without text")
    return Extracted(text=text, format="docx", title=title, date=date, stamp=stamp("docx"))
