"""What a source viewer shows of one indexed article: the text read from the file (never the raw file, never
HTML made from it), its indexed sentences with their spans into that text, and for a PDF each sentence's
page. Shared by `GET /api/sources/{file}` (qa/api/routes.py) and the chat's source panel (ui/).

The text comes from the index (the store keeps what was read from each file), looked up by the exact name
of an indexed article; nothing here touches the file system.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from index.extract import page_at
from qa.schemas import SourceSentence
from qa.service import QAService


class SourceViewSentence(SourceSentence):
    """One indexed sentence of an article; `start` and `end` index the text read from the file."""

    page: int | None = Field(default=None, description="PDF only: the 1-based page the sentence starts on.")


class SourceView(BaseModel):
    """An article as the index read it: its sentences in order (boilerplate is not indexed, so numbers may
    skip) and the text they index. `text` is plain text, to be shown as text."""

    file: str
    sentences: list[SourceViewSentence]
    text: str | None = Field(
        default=None,
        description="The text read from the file (for a .txt, the file itself): text[start:end] is each "
        "sentence. Null for an article indexed before texts were kept (`qa index --rebuild` adds them).",
    )
    format: str | None = Field(default=None, description="How the file was read: txt, md, html, pdf or docx.")
    title: str = Field(default="", description="The title the file gives itself (HTML, PDF, Word, Markdown).")
    date: str = Field(default="", description="The date the file gives itself, YYYY-MM-DD, when it has one.")
    pages: list[int] = Field(
        default_factory=list, description="PDF only: the offset in `text` at which each page starts."
    )


def source_view(service: QAService, file: str) -> SourceView | None:
    """The source view of the indexed article named exactly `file`, or None when there is none.

    The sentences are the ones the retriever holds (the ones answers cite); the text is the one the store
    holds for the article's committed version. If the article was re-indexed in between and the two no
    longer agree, the text is left out rather than shown with spans that do not fit it.
    """
    doc = service.source(file)
    if doc is None:
        return None
    extracted = service.retriever().store.text(file)
    if extracted is not None and any(extracted.text[s.start : s.end] != s.text for s in doc.sentences):
        extracted = None
    pages = list(extracted.pages) if extracted is not None else []
    return SourceView(
        file=doc.file,
        sentences=[
            SourceViewSentence(
                id=s.id, n=s.n, start=s.start, end=s.end, text=s.text, page=page_at(pages, s.start)
            )
            for s in doc.sentences
        ],
        text=extracted.text if extracted is not None else None,
        format=extracted.format if extracted is not None else None,
        title=extracted.title if extracted is not None else "",
        date=extracted.date if extracted is not None else "",
        pages=pages,
    )
