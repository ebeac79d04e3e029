"""The chat UI (Gradio 6): a streamed answer, clickable citation markers, and a source viewer.

Only Gradio wiring lives here; answers come from `QAService.start` (qa/service.py), the example questions
from `QAService.examples` (made from the indexed articles), the HTML from ui/render.py (its templates in
ui/templates/ escape every text they show), the CSS and the panels' JS from ui/static/. Mounted into the
FastAPI app by qa/api/app.py.

When the model refines an answer the pipeline has already verified, that answer is shown at once, marked
"Refining…", with a Stop control: stopping keeps it as the answer and cancels the run.

Safety: one file component, the documents panel's upload box (ui/documents.py: Gradio keeps an upload in
its temporary folder, the panel copies it into the corpus folder through qa/documents.py and deletes
Gradio's copy), and no `allowed_paths` (the app serves no files from disk: the data and corpus folders are
blocked, the CSS and JS are read from the package once and sent inline in the page, and the source viewer
shows text from the index),
never `share=True`, analytics off. With QA_API_TOKEN set, the chat asks for it as the password. State (the
conversation) is per browser session.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: no outside lookups

import gradio as gr  # noqa: E402
from fastapi import FastAPI  # noqa: E402

from index.errors import QAError  # noqa: E402
from qa.service import QAService  # noqa: E402
from qa.sources import source_view  # noqa: E402
from qa.types import Answer  # noqa: E402
from ui.documents import documents_panel  # noqa: E402
from ui.render import (  # noqa: E402
    render_chat,
    render_empty_source,
    render_examples,
    render_header,
    render_source,
    render_source_error,
)

log = logging.getLogger(__name__)
_REDRAW_S = 0.08  # redraw the streamed draft at most this often
_POLL_S = 0.1  # how often a turn that waits for the pipeline checks for a Stop
STOPPED_NOTE = "stopped by the user while the model was refining it: this is the answer verified first"


@cache
def static_text(name: str) -> str:
    """A file of the package's ui/static/ folder (the CSS, or the JS a panel runs when it loads), read once.
    Only these fixed names are read: the app serves no file from disk."""
    return (files("ui") / "static" / name).read_text("utf-8")


def _history(turns: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The finished turns as chat messages, for follow-up questions."""
    out: list[dict[str, str]] = []
    for t in turns:
        if t.get("answer") is not None:
            out.append({"role": "user", "content": t["question"]})
            out.append({"role": "assistant", "content": t["answer"]["answer"]})
    return out


class Stops:
    """Stop requests for the turns being answered, keyed by (browser session, turn number). The Stop
    control sets one; the turn notices it within _POLL_S."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flags: dict[tuple[str, int], threading.Event] = {}

    def open(self, key: tuple[str, int]) -> threading.Event:
        """The flag of a turn that starts answering."""
        with self._lock:
            return self._flags.setdefault(key, threading.Event())

    def stop(self, key: tuple[str, int]) -> None:
        """Ask the turn to stop (nothing happens when it is not answering)."""
        with self._lock:
            flag = self._flags.get(key)
        if flag is not None:
            flag.set()

    def close(self, key: tuple[str, int]) -> None:
        """The turn has ended."""
        with self._lock:
            self._flags.pop(key, None)


def chat_turn(
    service: QAService,
    question: str,
    turns: list[dict[str, Any]],
    stops: Stops | None = None,
    session: str = "",
) -> Iterator[tuple[str, list[dict[str, Any]], str]]:
    """One chat turn: (transcript HTML, turns, question box) after each redraw. A failure of the backend or
    the index (or anything else) ends the turn with its message shown in the transcript, never a crash.

    A `draft` event (a verified answer the model is about to refine) is drawn at once; a Stop for this
    turn (`stops`, key (session, turn number)) keeps it as the answer and cancels the run."""

    def articles() -> int:
        try:
            return len(service.files())
        except QAError:
            return 0

    if not question or not question.strip():
        gr.Warning("Type a question about the articles first.")
        yield render_chat(turns, articles()), turns, question
        return
    turns = [
        *turns,
        {"question": question, "answer": None, "draft": "", "draft_answer": None, "claims": 0, "error": None},
    ]
    turn = turns[-1]
    key = (session, len(turns) - 1)
    stop = (stops or Stops()).open(key)
    m = articles()
    yield render_chat(turns, m), turns, ""
    last = time.monotonic()
    stopped = False
    try:
        run = service.start(question, _history(turns[:-1]))
        try:
            while True:
                if stop.is_set():
                    stopped = True
                    break
                try:
                    ev = run.next(timeout=_POLL_S)
                except TimeoutError:
                    continue
                if ev is None:
                    break
                if ev.type == "token":
                    turn["draft"] += ev.data.get("text", "")
                elif ev.type == "claim":
                    turn["claims"] += 1
                elif ev.type == "draft":
                    turn["draft_answer"] = ev.data["answer"].model_dump(exclude={"extra"})
                elif ev.type == "done":
                    answer: Answer = ev.data["answer"]
                    turn["answer"] = answer.model_dump(exclude={"extra"})
                if ev.type == "draft" or ev.type != "done" and time.monotonic() - last >= _REDRAW_S:
                    last = time.monotonic()
                    yield render_chat(turns, m), turns, ""
        finally:
            run.cancel()
    except QAError as e:
        turn["error"] = str(e)
    except Exception:
        log.exception("the chat failed while answering")
        turn["error"] = "The server failed while answering; see its log. Ask again."
    finally:
        if stops is not None:
            stops.close(key)
    if stopped and turn["answer"] is None:
        if turn["draft_answer"] is not None:
            kept = dict(turn["draft_answer"])
            kept["notes"] = [*kept.get("notes", []), STOPPED_NOTE]
            turn["answer"], turn["stopped"] = kept, True
        else:
            turn["error"] = "Stopped before an answer was ready; ask again."
    if turn["answer"] is None and not turn["error"]:
        turn["error"] = "The answer stopped before it was complete; ask again."
    yield render_chat(turns, m), turns, ""


def build_ui(service: QAService) -> gr.Blocks:
    """The chat app for one QAService."""
    stops = Stops()

    def articles() -> int:
        try:
            return len(service.files())
        except QAError:
            return 0

    def status() -> str:
        return render_header(service.health())

    def examples() -> tuple[str, list[str]]:
        found = service.examples()
        return render_examples(found, articles()), found

    def respond(
        question: str, turns: list[dict[str, Any]], request: gr.Request
    ) -> Iterator[tuple[str, list[dict[str, Any]], str]]:
        yield from chat_turn(service, question, turns, stops, request.session_hash or "")

    def stop(request: gr.Request, evt: gr.EventData) -> None:
        data = getattr(evt, "_data", None) or {}
        i = data.get("stop")
        if isinstance(i, int):
            stops.stop((request.session_hash or "", i))

    def show_source(turns: list[dict[str, Any]], evt: gr.EventData) -> str:
        data = getattr(evt, "_data", None) or {}
        try:
            i, k = int(data.get("turn", -1)), int(data.get("k", -1))
            # A draft being refined has markers too.
            answer = Answer.model_validate(turns[i]["answer"] or turns[i].get("draft_answer"))
            answer.citations[k - 1]
        except (ValueError, TypeError, IndexError, KeyError):
            return render_empty_source()
        if not 1 <= k <= len(answer.citations):
            return render_empty_source()
        try:
            doc = source_view(service, answer.citations[k - 1].file)
        except QAError as e:
            return render_source_error(str(e))
        return render_source(doc, answer, i, k, articles())

    def clear() -> tuple[str, list[dict[str, Any]], str]:
        return render_chat([], articles()), [], render_empty_source()

    def pick_example(shown: list[str], evt: gr.EventData) -> str:
        data = getattr(evt, "_data", None) or {}
        i = data.get("example")
        return shown[i] if isinstance(i, int) and 0 <= i < len(shown) else ""

    marker_js = static_text("cite-click.js")  # the chat and the source panel both open sources
    with gr.Blocks(title="Ask the articles", fill_width=True, analytics_enabled=False) as demo:
        turns = gr.State([])
        shown = gr.State([])  # the example questions this page shows
        header = gr.HTML(render_header(None), js_on_load=None, apply_default_css=False)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chat = gr.HTML(
                    render_chat([], 0),
                    js_on_load=marker_js + static_text("chat.js"),
                    apply_default_css=False,
                    elem_id="qa-chat-panel",
                )
                with gr.Row(equal_height=True):
                    box = gr.Textbox(
                        placeholder="Ask about the articles",
                        show_label=False,
                        container=False,
                        lines=1,
                        max_lines=4,
                        scale=6,
                        elem_id="qa-question",
                        autofocus=True,
                    )
                    ask_btn = gr.Button("Ask", variant="primary", scale=0, min_width=90, elem_id="qa-ask")
                    clear_btn = gr.Button(
                        "Clear", variant="secondary", scale=0, min_width=80, elem_id="qa-clear"
                    )
                chips = gr.HTML(
                    "", js_on_load=static_text("examples.js"), apply_default_css=False, elem_id="qa-examples"
                )
            with gr.Column(scale=2, min_width=320):
                source = gr.HTML(
                    render_empty_source(),
                    js_on_load=marker_js + static_text("source.js"),
                    apply_default_css=False,
                    elem_id="qa-source-panel",
                )
                documents_panel(
                    service, demo, js=static_text("documents.js"), examples=(chips, shown), header=header
                )

        ask_args: dict[str, Any] = dict(
            fn=respond,
            inputs=[box, turns],
            outputs=[chat, turns, box],
            show_progress="hidden",
            # The service schedules answers (the model generates one at a time); answers that need no
            # model do not wait for another tab's.
            concurrency_limit=service.settings.server.concurrency,
            concurrency_id="answer",
            api_visibility="private",
        )
        box.submit(**ask_args)
        ask_btn.click(**ask_args)
        chips.click(pick_example, inputs=[shown], outputs=[box], api_visibility="private", queue=False).then(
            **ask_args
        )
        chat.stop(stop, api_visibility="private", queue=False)
        chat.click(
            show_source, inputs=[turns], outputs=[source], show_progress="hidden", api_visibility="private"
        )
        source.click(
            show_source, inputs=[turns], outputs=[source], show_progress="hidden", api_visibility="private"
        )
        clear_btn.click(clear, outputs=[chat, turns, source], api_visibility="private", queue=False)
        demo.load(status, outputs=[header], api_visibility="private")
        demo.load(examples, outputs=[chips, shown], api_visibility="private")
    return demo


def mount_ui(app: FastAPI, service: QAService, path: str = "/ui") -> None:
    """Mount the chat on `app` at `path`, with Gradio's queue bounded and file serving off."""
    settings = service.settings
    demo = build_ui(service)
    # Answers and other events may run `concurrency` at once each; the service schedules the answers.
    demo.queue(
        default_concurrency_limit=settings.server.concurrency, max_size=8 * settings.server.concurrency
    )
    token = settings.server.api_token
    auth = None
    if token:

        def auth(_user: str, password: str) -> bool:
            return secrets.compare_digest(password.encode(), token.encode())

    blocked = [str(p.resolve()) for p in (settings.index.data_dir, settings.index.corpus_dir)]
    gr.mount_gradio_app(
        app,
        demo,
        path=path,
        css=static_text("app.css"),
        theme=gr.themes.Soft(),
        footer_links=[],
        run_history=False,
        allowed_paths=[],
        blocked_paths=blocked,
        max_file_size=int(settings.index.max_upload_mb * 1024 * 1024),
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        enable_monitoring=False,
        show_error=True,
        auth=auth,
        auth_message="Enter any user name and the server's API token (QA_API_TOKEN) as the password.",
    )
