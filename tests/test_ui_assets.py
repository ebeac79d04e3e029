"""The chat's templates (ui/templates/) and static files (ui/static/): the templates escape what they are
given, exactly once; the CSS and the panels' JS reach the page from the package and are not served as
files; the package data names every one of them, so an installed wheel has them."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from qa.service import QAService
from qa.settings import Settings
from qa.sources import SourceView, SourceViewSentence
from qa.types import Answer, Citation
from tests.test_present import render_answer, tags
from ui.render import _templates, render_examples, render_source, render_source_error

ROOT = Path(__file__).resolve().parent.parent
UI = ROOT / "ui"


def test_templates_escape_every_value_once() -> None:
    assert _templates().from_string("<p>{{ v }}</p>").render(v="<b>x</b>") == "<p>&lt;b&gt;x&lt;/b&gt;</p>"
    html = render_source_error("<b>bold</b> & <i>more</i>")
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;more&lt;/i&gt;" in html
    assert not {t for t, _ in tags(html)} & {"b", "i"}
    # Escaped once: text that already looks escaped is shown as it is written.
    assert "&amp;lt;b&amp;gt;" in render_examples(["what is &lt;b&gt;?"], 1)
    # The markup the templates build is not escaped: a marker is a real button, its title escaped once.
    c = Citation(id='a"b.txt#1', file='a"b.txt', sentence=1, quote="q", start=0, end=1)
    html = render_answer(Answer(question="q", answer="x [1]", refused=False, citations=[c]), 1)
    buttons = [a for t, a in tags(html) if t == "button"]
    assert buttons and all(b["title"] == 'a"b.txt, sentence 1' for b in buttons)


def test_a_name_a_template_is_not_given_is_an_error() -> None:
    with pytest.raises(jinja2.UndefinedError):
        _templates().from_string("{{ missing }}").render()


class SourceText(HTMLParser):
    """The text inside the source panel's .qa-src-text, as a browser reads it (entities decoded)."""

    def __init__(self) -> None:
        super().__init__()
        self.depth, self.text = 0, ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth or ("class", "qa-src-text") in attrs:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        self.depth = max(0, self.depth - 1)

    def handle_data(self, data: str) -> None:
        self.text += data if self.depth else ""


def test_the_source_text_is_the_text_read_exactly() -> None:
    # Shown with `white-space: pre-wrap`: a line break or indent of the template's would show.
    text = "Title <b>&amp;</b>\n\n  First sentence here.  \nSecond one [1].\n\tTail & <i>more</i>\n"
    spans = [(text.index("First"), text.index("  \nSecond")), (text.index("Second"), text.index("\n\tTail"))]
    sentences = [
        SourceViewSentence(id=f"f.txt#{n}", n=n, start=a, end=b, text=text[a:b])
        for n, (a, b) in enumerate(spans, 1)
    ]
    view = SourceView(file="f.txt", sentences=sentences, text=text, format="txt")
    c = Citation(
        id="f.txt#2", file="f.txt", sentence=2, quote=sentences[1].text, start=spans[1][0], end=spans[1][1]
    )
    c.answer_start, c.answer_end = spans[1][0], spans[1][0] + 6
    html = render_source(view, Answer(question="q", answer="x [1]", refused=False, citations=[c]), 0, 1, 1)
    shown = SourceText()
    shown.feed(html)
    assert shown.text == text
    assert '<mark class="qa-ans">Second</mark>' in html


def test_the_page_carries_the_package_css_and_js_and_serves_no_file(tmp_path: Path) -> None:
    app = FastAPI()
    from ui.app import mount_ui  # gradio loads in ~3 s: only for this test

    mount_ui(app, QAService(Settings(data_dir=tmp_path / "data", corpus_dir=tmp_path, llm="llamacpp")))
    with TestClient(app) as client:
        config = client.get("/ui/config").json()
        page = client.get("/ui/").text
        refused = [
            client.get(f"/ui/gradio_api/file={p}").status_code
            for d in ("templates", "static")
            for p in sorted((UI / d).iterdir())
        ]
    css = (UI / "static" / "app.css").read_text("utf-8")
    assert config["css"] == css and ".qa-version-files" in page
    js = {c["props"].get("elem_id"): c["props"].get("js_on_load") for c in config["components"]}
    marker = (UI / "static" / "cite-click.js").read_text("utf-8")
    for panel, own in (("qa-chat-panel", "chat.js"), ("qa-source-panel", "source.js")):
        assert js[panel] == marker + (UI / "static" / own).read_text("utf-8")
    assert js["qa-examples"] == (UI / "static" / "examples.js").read_text("utf-8")
    assert refused and all(code == 403 for code in refused)


def test_the_package_data_names_every_template_and_static_file() -> None:
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["package-data"]
    found = [p.relative_to(UI).as_posix() for d in ("templates", "static") for p in (UI / d).iterdir()]
    assert found and all(any(fnmatch(f, g) for g in globs["ui"]) for f in found), (found, globs["ui"])
