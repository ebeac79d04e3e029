"""A file's raw bytes → the text that is read from it: the text every sentence span indexes.

One reader per format, each in its own module (`text`, `markdown`, `html`, `pdf`, `docx`) and through a
maintained library (never a hand-written parser):

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

Files other than .txt are read by a separate worker process (`Reader`, in `worker.py`) that has a
memory limit (RLIMIT_AS), and each file a time limit: a file that takes too long, or needs too much memory,
or crashes the library, kills only the worker. That file is skipped with the reason, a fresh worker reads
the next one.
Hostile input is refused early with a reason: encrypted or malformed PDFs, too many pages, a .docx whose
zip inflates far beyond its size, binary data under an .html name, a page with nothing but markup.
"""

from index.extract.dispatch import extract_bytes
from index.extract.docx import read_docx
from index.extract.formats import (
    FORMATS,
    LABELS,
    LEGACY_STAMP,
    READER_VERSIONS,
    UNSUPPORTED,
    Extracted,
    ExtractError,
    Limits,
    format_of,
    page_at,
    stamp,
)
from index.extract.html import read_html
from index.extract.markdown import read_markdown
from index.extract.pdf import read_pdf, text_pdf
from index.extract.text import read_txt
from index.extract.worker import Read, Reader

__all__ = [
    "FORMATS",
    "LABELS",
    "LEGACY_STAMP",
    "READER_VERSIONS",
    "UNSUPPORTED",
    "ExtractError",
    "Extracted",
    "Limits",
    "Read",
    "Reader",
    "extract_bytes",
    "format_of",
    "page_at",
    "read_docx",
    "read_html",
    "read_markdown",
    "read_pdf",
    "read_txt",
    "stamp",
    "text_pdf",
]
