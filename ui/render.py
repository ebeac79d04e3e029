"""HTML for the chat transcript, the source viewer and the status line. Pure functions.

Every piece of text that reaches HTML here (questions, answers, quotes, file names, error messages) goes
through `html.escape`, so hostile text in a document or a question (tags, scripts, markdown) is shown as
text, never rendered. Citation markers become buttons that carry only integers (turn, marker number).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from typing import Any

from qa.cite import MARKER, marker_numbers, strip_markers
from qa.present import siblings
from qa.schemas import Health, SourceDoc
from qa.sources import SourceView
from qa.types import Answer, Citation

_MODE_LABEL = {
    "generated": "written by the model, checked against the cited sentences",
    "aligned": "written by the model; citations found by checking each sentence",
    "extractive": "found in the articles: the short answer and the sentence that states it, checked",
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
EMPTY_SOURCE = (
    '<div class="qa-src qa-src-empty"><div class="qa-src-hint">Sources</div>'
    '<p>Click a citation marker such as <span class="qa-cite qa-cite-static">1</span> in an answer to '
    "read the cited sentence in its article.</p></div>"
)


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def reported_label(n: int, m: int) -> str:
    """'reported by 3 of 5 articles'."""
    return f"reported by {n} of {m} article{'s' if m != 1 else ''}"


def cite_button(turn: int, k: int, answer: Answer) -> str:
    """A clickable marker for citation `k` of the answer in `turn`."""
    c = answer.citations[k - 1]
    return (
        f'<button type="button" class="qa-cite" data-turn="{turn}" data-k="{k}" data-sid="{_e(c.id)}" '
        f'title="{_e(c.file)}, sentence {c.sentence}">{k}</button>'
    )


def linkify(text: str, turn: int, answer: Answer) -> str:
    """Escape `text`, turning each marker whose numbers all point at citations into marker buttons
    (`[k]`, or `[1, 2]` as two); any other marker stays text."""
    n = len(answer.citations)

    def sub(m: re.Match[str]) -> str:
        ks = marker_numbers(m)
        if not all(1 <= k <= n for k in ks):
            return m.group(0)
        return "".join(cite_button(turn, k, answer) for k in ks)

    return MARKER.sub(sub, _e(text))


def _footnotes(turn: int, answer: Answer, articles: int) -> str:
    items = []
    for k, c in enumerate(answer.citations, 1):
        n = answer.reported_by.get(c.id, 1)
        badge = f'<span class="qa-badge">{_e(reported_label(n, articles))}</span>' if n > 1 else ""
        items.append(
            f'<li>{cite_button(turn, k, answer)}<span class="qa-fn-where">{_e(c.file)}, sentence {c.sentence}'
            f'</span>{badge}<div class="qa-fn-quote">“{_e(c.quote)}”</div></li>'
        )
    return f'<ol class="qa-footnotes">{"".join(items)}</ol>'


def render_answer(turn: int, answer: Answer, articles: int) -> str:
    """One finished answer: a refusal, or the text with markers, the versions and footnotes."""
    if answer.refused:
        why = answer.notes[0] if answer.notes else ""
        return (
            '<div class="qa-msg qa-bot qa-refusal"><div class="qa-who">Not in the articles</div>'
            f'<div class="qa-text">{_e(answer.answer)}</div>'
            + (f'<div class="qa-why">Why: {_e(why)}</div>' if why else "")
            + "</div>"
        )
    total = answer.timings.get("total_ms", 0.0) / 1000
    meta = f"{answer.model} · {total:.1f} s"
    mode = _MODE_LABEL.get(answer.mode, "")
    return (
        '<div class="qa-msg qa-bot qa-answer"><div class="qa-who">Answer</div>'
        f'<div class="qa-text">{linkify(answer.answer, turn, answer)}</div>{render_versions(turn, answer)}'
        f"{_footnotes(turn, answer, articles)}"
        f'<div class="qa-meta" title="{_e(mode)}">{_e(meta)}{" · " + _e(mode) if mode else ""}</div></div>'
    )


def render_refining(turn: int, draft: Answer, articles: int) -> str:
    """A verified answer shown while the model refines it: the answer as it stands, marked "Refining…",
    with a Stop control that keeps it (the button carries only the turn number)."""
    bar = (
        '<div class="qa-refining" role="status">Refining with the model<span class="qa-dots"><i>.</i><i>.</i>'
        f'<i>.</i></span><button type="button" class="qa-stop" data-stop="{turn}" '
        'title="Stop waiting for the model and keep this answer">Stop, keep this answer</button></div>'
    )
    return f'<div class="qa-draft-answer">{bar}{render_answer(turn, draft, articles)}</div>'


VERSIONS_CSS = """
.qa-versions { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0; }
.qa-version { flex: 1 1 0; min-width: 140px; border: 1px solid #d9c27a; border-radius: 6px;
  background: #fffaf0; padding: 6px 8px; }
.qa-version-value { font-weight: 600; }
.qa-version-files { color: #6b5a1e; font-size: 0.85em; margin: 2px 0 4px; }
"""


def render_versions(turn: int, answer: Answer) -> str:
    """The versions of the answer side by side when the articles disagree: each value, how many articles
    state it, and its markers (each opens its source); nothing when they agree."""
    if len(answer.conflicts) < 2:
        return ""
    cols = []
    for c in answer.conflicts:
        marks = "".join(cite_button(turn, k, answer) for k in c.citations if 1 <= k <= len(answer.citations))
        files = f"{c.files} article{'s' if c.files != 1 else ''}"
        cols.append(
            f'<div class="qa-version"><div class="qa-version-value">{_e(c.value)}</div>'
            f'<div class="qa-version-files">{_e(files)}</div>{marks}</div>'
        )
    return f'<div class="qa-versions" role="group" aria-label="The articles disagree">{"".join(cols)}</div>'


def render_turn(turn: int, t: dict[str, Any], articles: int) -> str:
    """A question and its answer (pending, finished, or failed)."""
    q = (
        '<div class="qa-msg qa-user"><div class="qa-who">You</div>'
        f'<div class="qa-text">{_e(t["question"])}</div></div>'
    )
    if t.get("error"):
        a = (
            '<div class="qa-msg qa-bot qa-error"><div class="qa-who">Could not answer</div>'
            f'<div class="qa-text">{_e(t["error"])}</div></div>'
        )
    elif t.get("answer") is not None:
        a = render_answer(turn, Answer.model_validate(t["answer"]), articles)
        if t.get("stopped"):
            a += '<div class="qa-why qa-stopped">Refinement stopped: this is the answer verified first.</div>'
    elif t.get("draft_answer") is not None:
        a = render_refining(turn, Answer.model_validate(t["draft_answer"]), articles)
    else:
        draft = strip_markers(t.get("draft", ""))
        checked = int(t.get("claims", 0))
        status = "Drafting; checking each sentence against its source" if draft else "Reading the articles"
        a = (
            '<div class="qa-msg qa-bot qa-pending"><div class="qa-who">'
            f'{status}<span class="qa-dots"><i>.</i><i>.</i><i>.</i></span></div>'
            + (f'<div class="qa-draft">{_e(draft)}</div>' if draft else "")
            + (f'<div class="qa-why">{checked} sentence(s) verified so far</div>' if checked else "")
            + "</div>"
        )
    return f'<div class="qa-turn">{q}{a}</div>'


def render_chat(turns: list[dict[str, Any]], articles: int) -> str:
    """The whole transcript."""
    if not turns:
        return (
            '<div class="qa-chat"><div class="qa-empty">Ask a question about the articles. Every sentence '
            "of an answer cites the article and sentence it comes from; click a marker to see it.</div></div>"
        )
    return (
        '<div class="qa-chat">' + "".join(render_turn(i, t, articles) for i, t in enumerate(turns)) + "</div>"
    )


def render_source(
    doc: SourceDoc | SourceView | None, answer: Answer, turn: int, k: int, articles: int
) -> str:
    """The cited article with citation `k` highlighted, and who else reports it. With the text the index
    read from the file (a SourceView with `text`), that text is shown whole, every indexed sentence marked
    in it; otherwise the indexed sentences are listed."""
    c = answer.citations[k - 1]
    if doc is None:
        return (
            f'<div class="qa-src"><div class="qa-src-file">{_e(c.file)}</div>'
            "<p>This article is no longer in the index (changed or removed since the answer).</p></div>"
        )
    others = {x.id for x in answer.citations} - {c.id}
    group = [j for j in siblings(answer, k) if answer.citations[j - 1].file != c.file or j == k]
    n = answer.reported_by.get(c.id, 1)
    reported = ""
    if n > 1 and len(group) > 1:
        links = "".join(
            f"<li>{cite_button(turn, j, answer)} {_e(answer.citations[j - 1].file)}, sentence "
            f"{answer.citations[j - 1].sentence}</li>"
            for j in group
        )
        label = _e(reported_label(n, articles).capitalize())
        reported = f'<div class="qa-src-reported">{label}:<ul>{links}</ul></div>'
    if isinstance(doc, SourceView) and doc.text is not None:
        return _render_text_source(doc, doc.text, answer, k, reported, others)
    rows = []
    prev = 0
    for s in doc.sentences:
        if s.n > prev + 1:
            rows.append('<div class="qa-gap" title="not indexed (boilerplate)">⋯</div>')
        prev = s.n
        cls = "qa-sent qa-hl" if s.id == c.id else ("qa-sent qa-also" if s.id in others else "qa-sent")
        rows.append(
            f'<div class="{cls}" data-sid="{_e(s.id)}"><span class="qa-sn">{s.n}</span>'
            f'<span class="qa-st">{_marked(s.text, s.start, c) if s.id == c.id else _e(s.text)}</span></div>'
        )
    return (
        '<div class="qa-src">'
        f'<div class="qa-src-hint">Source of [{k}]</div>'
        f'<div class="qa-src-file">{_e(c.file)}</div>'
        f'<div class="qa-src-where">sentence {c.sentence} · characters {c.start}–{c.end}</div>'
        f"{reported}"
        f'<div class="qa-src-body">{"".join(rows)}</div></div>'
    )


def _render_text_source(
    doc: SourceView, text: str, answer: Answer, k: int, reported: str, others: set[str]
) -> str:
    """The text read from the file, escaped, with the indexed sentences as spans (the cited one
    highlighted, other cited ones tinted), what was not indexed dimmed, and page marks for a PDF. A very
    long text is shown around the cited sentence."""
    c = answer.citations[k - 1]
    cited = next((s for s in doc.sentences if s.id == c.id), None)
    lo, hi = 0, len(text)
    if hi > MAX_SOURCE_CHARS:
        centre = cited.start if cited is not None else 0
        lo = max(0, centre - MAX_SOURCE_CHARS // 2)
        hi = min(len(text), lo + MAX_SOURCE_CHARS)
        lo = max(0, hi - MAX_SOURCE_CHARS)
    pages = [(n, p) for n, p in enumerate(doc.pages, 1) if lo <= p < hi]
    parts: list[str] = []
    if lo > 0:
        parts.append(f'<span class="qa-cut">… characters 0–{lo} not shown …</span>\n')

    def gap(a: int, b: int) -> None:
        """Text between sentences (whitespace, or what was not indexed), with page marks inside it."""
        while pages and pages[0][1] <= b:
            n, p = pages.pop(0)
            _plain(parts, text[a:p])
            parts.append(f'<span class="qa-page" data-page="{n}">page {n}</span>')
            a = max(a, p)
        _plain(parts, text[a:b])

    pos = lo
    for s in sorted(doc.sentences, key=lambda x: x.start):
        if s.start < pos or s.end > hi:
            continue
        gap(pos, s.start)
        cls = "qa-s qa-hl" if s.id == c.id else ("qa-s qa-also" if s.id in others else "qa-s")
        where = f"sentence {s.n}" + (f", page {s.page}" if s.page else "")
        piece = text[s.start : s.end]
        body = _marked(piece, s.start, c) if s.id == c.id else _e(piece)
        parts.append(
            f'<span class="{cls}" data-sid="{_e(s.id)}" title="{_e(where)}">'
            f'<span class="qa-st">{body}</span></span>'
        )
        pos = s.end
    gap(pos, hi)
    if hi < len(text):
        parts.append(f'\n<span class="qa-cut">… characters {hi}–{len(text)} not shown …</span>')
    page = cited.page if cited is not None else None
    facts = [FORMAT_NAMES.get(doc.format or "", doc.format or "")]
    if doc.title:
        facts.append(f"“{doc.title}”")
    if doc.date:
        facts.append(doc.date)
    where = (
        f"sentence {c.sentence}" + (f" · page {page}" if page else "") + f" · characters {c.start}–{c.end}"
    )
    return (
        '<div class="qa-src">'
        f'<div class="qa-src-hint">Source of [{k}] · the text read from the file</div>'
        f'<div class="qa-src-file">{_e(c.file)}</div>'
        f'<div class="qa-src-meta">{_e(" · ".join(f for f in facts if f))}</div>'
        f'<div class="qa-src-where">{_e(where)}</div>'
        f"{reported}"
        f'<div class="qa-src-body"><div class="qa-src-text">{"".join(parts)}</div></div></div>'
    )


def _marked(sentence: str, start: int, c: Citation) -> str:
    """The cited sentence, escaped, with the short answer's phrase (`answer_start`/`answer_end`, file
    offsets) wrapped in <mark>; just the escaped sentence when the citation carries no phrase."""
    if c.answer_start is None or c.answer_end is None:
        return _e(sentence)
    a, b = c.answer_start - start, c.answer_end - start
    if not 0 <= a < b <= len(sentence):
        return _e(sentence)
    return f'{_e(sentence[:a])}<mark class="qa-ans">{_e(sentence[a:b])}</mark>{_e(sentence[b:])}'


def _plain(parts: list[str], piece: str) -> None:
    """Text outside the indexed sentences: whitespace as it is, anything else dimmed (not indexed)."""
    if not piece:
        return
    if piece.strip():
        parts.append(f'<span class="qa-bp" title="not indexed">{_e(piece)}</span>')
    else:
        parts.append(_e(piece))


def render_source_error(message: str) -> str:
    """The source panel when the index cannot be read."""
    return f'<div class="qa-src"><div class="qa-src-hint">Sources</div><p>{_e(message)}</p></div>'


def render_examples(examples: Sequence[str], articles: int) -> str:
    """Example questions (made from the indexed articles) as chips; a click sends only the example's
    number. With no articles indexed, how to add them."""
    if articles == 0:
        return (
            '<div class="qa-examples qa-no-articles">No articles are indexed yet: put .txt, .md, .html, '
            ".pdf or .docx files in a folder and run <code>qa index --corpus DIR</code>, then reload this "
            "page.</div>"
        )
    if not examples:
        return ""
    chips = "".join(
        f'<button type="button" class="qa-example" data-example="{i}">{_e(q)}</button>'
        for i, q in enumerate(examples)
    )
    return f'<div class="qa-examples"><span class="qa-dim">Try:</span>{chips}</div>'


def render_header(health: Health | None) -> str:
    """The title and the status line (None while the index and model are loading)."""
    status = (
        render_status(health)
        if health is not None
        else ('<div class="qa-status">Loading the index and the model…</div>')
    )
    return f'<div class="qa-header"><h1>Ask the articles</h1>{status}</div>'


def render_status(health: Health) -> str:
    """The backend and model in use, the index size, or what is wrong."""
    parts = []
    if health.backend.ready:
        parts.append(
            f'<span class="qa-ok">●</span> <b>{_e(health.backend.model)}</b> '
            f'<span class="qa-dim">({_e(health.backend.reason)})</span>'
        )
    else:
        parts.append(f'<span class="qa-bad">●</span> backend: {_e(health.backend.error or "not ready")}')
    if health.index.ready:
        parts.append(f"{health.index.articles} articles, {health.index.sentences} sentences indexed")
    else:
        parts.append(f'<span class="qa-bad">index: {_e(health.index.error or "not ready")}</span>')
    parts.append('<a href="/docs" target="_blank" rel="noopener">HTTP API</a>')
    return '<div class="qa-status">' + " · ".join(parts) + "</div>"
