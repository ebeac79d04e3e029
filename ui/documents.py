"""The chat's documents panel: the articles with their status, files dropped or chosen (several at once),
indexing progress, and removing an article after a confirmation.

Only wiring and what the panel shows live here: files go to `QAService.documents()` (qa/documents.py), which
names, saves and indexes them. Gradio keeps an upload in its own temporary folder; the callback copies it
into the corpus folder through `Documents.add` and deletes Gradio's copy. Nothing here reads a path a
browser sent: the paths come from Gradio's upload component, and removal sends only a row number.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from index.errors import QAError
from qa.documents import DocumentStatus
from qa.service import QAService
from ui.render import FORMAT_NAMES, _macro, render_examples, render_header

log = logging.getLogger(__name__)
TICK_S = 1.0  # how often an open panel looks at the indexing while something is queued


def _size(n: int | None) -> str:
    if n is None:
        return ""
    if n < 1024:
        return f"{n} bytes"
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def render_documents(docs: Sequence[DocumentStatus]) -> str:
    """The panel for these articles: one row each, with progress while some are queued or indexing."""
    rows = []
    for d in docs:
        meta = [FORMAT_NAMES.get(d.format, d.format), _size(d.size)]
        if d.sentences is not None:
            meta.append(f"{d.sentences} sentences")
        rows.append(
            {
                "name": d.name,
                "status": d.status,
                "reason": d.reason or "",
                "meta": " · ".join(m for m in meta if m),
                "removable": d.status not in ("queued", "indexing"),
            }
        )
    busy = [d for d in docs if d.status in ("queued", "indexing")]
    ready = sum(d.status == "ready" for d in docs)
    total = len(busy) + ready
    return _macro("documents.html.j2", "panel")(
        {"rows": rows, "busy": bool(busy), "done": ready, "total": total, "ready": ready}
    )


def documents_panel(
    service: QAService, demo: gr.Blocks, *, js: str, examples: tuple[Any, Any], header: Any
) -> None:
    """The panel, its upload box and its timer, inside `demo` being built (`js`: the panel's script); when
    indexing ends, the example questions (`examples`: the chips and the questions they show) and the
    status line (`header`) are built again."""
    chips, shown = examples

    def listing() -> tuple[list[DocumentStatus], bool]:
        try:
            docs = service.documents().list()
        except QAError as e:
            gr.Warning(str(e))
            docs = []
        return docs, any(d.status in ("queued", "indexing") for d in docs)

    def show() -> tuple[str, list[str], Any]:
        docs, busy = listing()
        return render_documents(docs), [d.name for d in docs], gr.Timer(active=busy)

    def upload(paths: list[str] | None) -> tuple[str, list[str], None, Any]:
        files = [Path(p) for p in paths or []]
        try:
            for f in files:
                with open(f, "rb") as fh:
                    for r in service.documents().add([(f.name, fh)]):
                        if r.status == "skipped":
                            gr.Warning(f"{r.uploaded_as} was not added: {r.reason}")
                        elif r.replaced:
                            gr.Info(f"{r.name} replaces the article of that name.")
        except (OSError, QAError) as e:
            gr.Warning(f"The files could not be added: {e}")
        finally:
            for f in files:
                f.unlink(missing_ok=True)  # Gradio's copy; the article is in the corpus folder now
        panel, names, timer = show()
        return panel, names, None, timer

    def tick() -> tuple[str, list[str], Any, Any, Any, Any]:
        panel, names, timer = show()
        if timer.active:
            return panel, names, timer, gr.skip(), gr.skip(), gr.skip()
        found = service.examples()  # built again from the articles now indexed
        articles = len(service.indexed())
        return panel, names, timer, render_examples(found, articles), found, render_header(service.health())

    def remove(names: list[str], evt: gr.EventData) -> tuple[str, list[str], Any]:
        data = getattr(evt, "_data", None) or {}
        i = data.get("remove")
        if isinstance(i, int) and 0 <= i < len(names) and not service.documents().remove(names[i]):
            gr.Warning(f"{names[i]} is no longer an article.")
        return show()

    names = gr.State([])  # the names of the rows this page shows
    panel = gr.HTML(
        render_documents([]),
        js_on_load=js,
        apply_default_css=False,
        elem_id="qa-docs-panel",
    )
    box = gr.File(
        file_count="multiple",
        type="filepath",
        label="Add articles (.txt, .md, .html, .pdf, .docx), several at once",
        elem_id="qa-doc-upload",
        height=110,
    )
    timer = gr.Timer(TICK_S, active=False)
    private: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
    box.upload(upload, inputs=[box], outputs=[panel, names, box, timer], **private)
    timer.tick(tick, outputs=[panel, names, timer, chips, shown, header], **private)
    panel.clear(remove, inputs=[names], outputs=[panel, names, timer], **private)
    demo.load(show, outputs=[panel, names, timer], **private)
