"""HTML for the chat transcript, the source viewer and the status line. Pure functions.

The markup lives in ui/templates/*.html.j2, rendered by one Jinja2 environment with autoescape on: every
value that reaches HTML (questions, answers, quotes, file names, error messages) is escaped by the
template, so hostile text in a document or a question (tags, scripts, markdown) is shown as text, never
rendered. This module builds no markup: it decides what is shown (which markers point at citations, which
sentence is cited and which phrase in it, what part of a long text) and passes plain values. Citation
markers become buttons that carry only integers (turn, marker number) and the sentence id.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import jinja2

from qa.cite import MARKER, marker_numbers, strip_markers
from qa.present import siblings
from qa.schemas import Health, SourceDoc
from qa.sources import SourceView
from qa.types import Answer, Citation

_MODE_LABEL = {
    "generated": "written by the model, checked against the cited sentences",
    "aligned": "written by the model; citations found by checking each sentence",
    "extractive": "found in the articles: the short answer and the sentence that states it, checked",
    "quoted": "no short answer is clear: the sentence of the articles that comes closest, quoted",
}
# A text longer than this is shown around the cited sentence (a whole book would stall the browser).
MAX_SOURCE_CHARS = 200_000
FORMAT_NAMES = {
    "txt": "text file",
    "md": "Markdown",
    "html": "web page",
    "pdf": "PDF",
    "docx": "Word document",
}


@cache
def _templates() -> jinja2.Environment:
    """The one template environment, made on first use. Autoescape is on for every template (they are all
    HTML), and a name a template uses but is not given is an error, never an empty string."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("ui", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _macro(template: str, name: str) -> Callable[..., str]:
    """Macro `name` of ui/templates/`template`; it returns the escaped HTML."""
    macro = getattr(_templates().get_template(template).module, name)
    return lambda *args, **kwargs: str(macro(*args, **kwargs))


def reported_label(n: int, m: int) -> str:
    """'reported by 3 of 5 articles'."""
    return f"reported by {n} of {m} article{'s' if m != 1 else ''}"


def _segments(text: str, n: int) -> list[str | list[int]]:
    """`text` cut at its markers: the text between them, and the numbers of each marker whose numbers all
    point at one of the `n` citations (`[k]`, or `[1, 2]` as [1, 2]); any other marker stays text."""
    out: list[str | list[int]] = []
    pos = 0
    for m in MARKER.finditer(text):
        ks = marker_numbers(m)
        if all(1 <= k <= n for k in ks):
            out += [text[pos : m.start()], ks]
            pos = m.end()
    out.append(text[pos:])
    return out


def _answer(answer: Answer, articles: int) -> dict[str, Any]:
    """What chat.html.j2's `answer` shows of one finished answer (or a draft being refined)."""
    n = len(answer.citations)
    reported = [answer.reported_by.get(c.id, 1) for c in answer.citations]
    versions = [
        (c.value, f"{c.files} article{'s' if c.files != 1 else ''}", [k for k in c.citations if 1 <= k <= n])
        for c in answer.conflicts
    ]
    return {
        "answer": answer,
        "why": answer.notes[0] if answer.notes else "",
        "segments": _segments(answer.answer, n),
        # The versions side by side only when the articles disagree.
        "versions": versions if len(versions) > 1 else [],
        "badges": [reported_label(r, articles) if r > 1 else "" for r in reported],
        "meta": f"{answer.model} · {answer.timings.get('total_ms', 0.0) / 1000:.1f} s",
        "mode": _MODE_LABEL.get(answer.mode, ""),
    }


def _turn(t: dict[str, Any], articles: int) -> dict[str, Any]:
    """What one turn shows: its question, then its error, its answer, the draft being refined, or how far
    the answer has got."""
    error = t.get("error") or ""
    done = None if error else t.get("answer")
    draft = None if error or done is not None else t.get("draft_answer")
    return {
        "question": t["question"],
        "error": error,
        "answer": _answer(Answer.model_validate(done), articles) if done is not None else None,
        "stopped": bool(t.get("stopped")),
        "refining": _answer(Answer.model_validate(draft), articles) if draft is not None else None,
        "draft": strip_markers(t.get("draft", "")),
        "checked": int(t.get("claims", 0)),
    }


def render_chat(turns: list[dict[str, Any]], articles: int) -> str:
    """The whole transcript."""
    return _macro("chat.html.j2", "chat")([_turn(t, articles) for t in turns])


def render_empty_source() -> str:
    """The source panel before a marker is clicked."""
    return _macro("source.html.j2", "empty")()


def render_source(
    doc: SourceDoc | SourceView | None, answer: Answer, turn: int, k: int, articles: int
) -> str:
    """The cited article with citation `k` highlighted, and who else reports it. With the text the index
    read from the file (a SourceView with `text`), that text is shown whole, every indexed sentence marked
    in it; otherwise the indexed sentences are listed."""
    c = answer.citations[k - 1]
    if doc is None:
        return _macro("source.html.j2", "missing")(c)
    others = {x.id for x in answer.citations} - {c.id}
    group = [j for j in siblings(answer, k) if answer.citations[j - 1].file != c.file or j == k]
    n = answer.reported_by.get(c.id, 1)
    reported = None
    if n > 1 and len(group) > 1:
        label = reported_label(n, articles).capitalize()
        reported = {"label": label, "group": [(j, answer.citations[j - 1]) for j in group]}

    def tint(sid: str) -> str:
        return "hl" if sid == c.id else ("also" if sid in others else "")

    if isinstance(doc, SourceView) and doc.text is not None:
        return _text_source(doc, doc.text, (turn, k, c), reported, tint)
    rows = []
    prev = 0
    for s in doc.sentences:
        body = _marked(s.text, s.start, c) if s.id == c.id else (s.text, "", "")
        rows.append({"gap": s.n > prev + 1, "tint": tint(s.id), "id": s.id, "n": s.n, "body": body})
        prev = s.n
    return _macro("source.html.j2", "sentences")(turn, k, c, reported, rows)


def _text_source(
    doc: SourceView,
    text: str,
    cited_as: tuple[int, int, Citation],
    reported: dict[str, Any] | None,
    tint: Callable[[str], str],
) -> str:
    """The text read from the file, with the indexed sentences as spans (the cited one highlighted, other
    cited ones tinted), what was not indexed dimmed, and page marks for a PDF. A very long text is shown
    around the cited sentence. `cited_as`: the chat turn, the citation's number and the citation."""
    turn, k, c = cited_as
    cited = next((s for s in doc.sentences if s.id == c.id), None)
    lo, hi = 0, len(text)
    if hi > MAX_SOURCE_CHARS:
        centre = cited.start if cited is not None else 0
        lo = max(0, centre - MAX_SOURCE_CHARS // 2)
        hi = min(len(text), lo + MAX_SOURCE_CHARS)
        lo = max(0, hi - MAX_SOURCE_CHARS)
    pages = [(n, p) for n, p in enumerate(doc.pages, 1) if lo <= p < hi]
    parts: list[dict[str, Any]] = []

    def gap(a: int, b: int) -> None:
        """Text between sentences (whitespace, or what was not indexed), with page marks inside it."""
        while pages and pages[0][1] <= b:
            n, p = pages.pop(0)
            _plain(parts, text[a:p])
            parts.append({"kind": "page", "n": n})
            a = max(a, p)
        _plain(parts, text[a:b])

    pos = lo
    for s in sorted(doc.sentences, key=lambda x: x.start):
        if s.start < pos or s.end > hi:
            continue
        gap(pos, s.start)
        piece = text[s.start : s.end]
        body = _marked(piece, s.start, c) if s.id == c.id else (piece, "", "")
        parts.append(
            {"kind": "sentence", "tint": tint(s.id), "id": s.id, "n": s.n, "page": s.page, "body": body}
        )
        pos = s.end
    gap(pos, hi)
    facts = [
        FORMAT_NAMES.get(doc.format or "", doc.format or ""),
        f"“{doc.title}”" if doc.title else "",
        doc.date,
    ]
    return _macro("source.html.j2", "text")(
        turn=turn,
        k=k,
        c=c,
        reported=reported,
        meta=" · ".join(f for f in facts if f),
        page=cited.page if cited is not None else None,
        parts=parts,
        lo=lo,
        hi=hi,
        length=len(text),
    )


def _marked(sentence: str, start: int, c: Citation) -> tuple[str, str, str]:
    """The cited sentence as (before, phrase, after), the phrase being the short answer's
    (`answer_start`/`answer_end`, file offsets); (sentence, "", "") when the citation carries no phrase."""
    if c.answer_start is None or c.answer_end is None:
        return sentence, "", ""
    a, b = c.answer_start - start, c.answer_end - start
    if not 0 <= a < b <= len(sentence):
        return sentence, "", ""
    return sentence[:a], sentence[a:b], sentence[b:]


def _plain(parts: list[dict[str, Any]], piece: str) -> None:
    """Text outside the indexed sentences: whitespace as it is, anything else dimmed (not indexed)."""
    if piece:
        parts.append({"kind": "dim" if piece.strip() else "space", "text": piece})


def render_source_error(message: str) -> str:
    """The source panel when the index cannot be read."""
    return _macro("source.html.j2", "error")(message)


def render_examples(examples: Sequence[str], articles: int) -> str:
    """Example questions (made from the indexed articles) as chips; a click sends only the example's
    number. With no articles indexed, how to add them."""
    return _macro("page.html.j2", "examples")(list(examples), articles)


def render_header(health: Health | None) -> str:
    """The title and the status line: the backend and model in use, the index size, or what is wrong
    (None while the index and model are loading)."""
    return _macro("page.html.j2", "header")(health)
