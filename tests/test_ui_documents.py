"""The documents panel in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright), over a
live server with the packaged model and a real index of two seeds in tmp.

Drops one file and chooses another, sees both become `ready`, asks about the chosen one, clicks the
citation and sees its sentence in the source panel, then removes an article after confirming. Saves the
panel's screenshot as docs/documents.png (the README shows it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_server import ROOT, LiveServer
from tests.test_api_documents import QUESTION, two_seed_server
from tests.test_documents import ARTICLE

# `browser`: the module's headless Chromium fixture, shared with the chat's browser test.
from tests.test_ui_browser import ANSWER_DONE, CHROMIUM, browser  # noqa: F401

DROPPED = (
    "# Tram line opening delayed\n\nThe opening of the Eastside tram line was delayed until September. "
    "The council blamed late deliveries of overhead wires.\n"
)

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is absent: `apt-get install chromium`"
    ),
    pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|The copy keyword is deprecated)"),
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = two_seed_server(tmp_path_factory, True)
    yield server
    server.stop()


def _row(name: str, status: str) -> str:
    return f"#qa-docs-panel .qa-doc-{status}[data-name='{name}']"


def test_drop_choose_ready_ask_cite_and_remove(
    live: LiveServer,
    browser: object,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    from playwright.sync_api import Browser, Page

    assert isinstance(browser, Browser)
    page: Page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(live.url + "/ui/")
    page.wait_for_selector("#qa-docs-panel .qa-doc-ready", timeout=60_000)
    assert page.locator("#qa-docs-panel .qa-doc").count() == 2
    page.wait_for_selector("#qa-examples .qa-example", timeout=60_000)
    examples_before = page.inner_text("#qa-examples")

    # Drop a Markdown file on the upload box, as a browser does when a file is dragged onto it.
    target = page.locator("#qa-doc-upload button.upload-container")
    transfer = page.evaluate_handle(
        "(text) => { const dt = new DataTransfer();"
        " dt.items.add(new File([text], 'tram.md', {type: 'text/markdown'})); return dt; }",
        DROPPED,
    )
    target.dispatch_event("dragenter", {"dataTransfer": transfer})
    target.dispatch_event("drop", {"dataTransfer": transfer})
    page.wait_for_selector(_row("tram.md", "ready"), timeout=120_000)

    # Choose a file with the file dialog.
    chosen = tmp_path / "velmora.txt"
    chosen.write_text(ARTICLE, "utf-8")
    page.set_input_files("#qa-doc-upload input[type=file]", str(chosen))
    page.wait_for_selector(
        f"{_row('velmora.txt', 'queued')}, {_row('velmora.txt', 'indexing')}, {_row('velmora.txt', 'ready')}",
        timeout=60_000,
    )
    page.wait_for_selector(_row("velmora.txt", "ready"), timeout=120_000)
    assert "5 sentences" in page.inner_text(_row("velmora.txt", "ready"))
    assert (live.settings.index.corpus_dir / "velmora.txt").read_text() == ARTICLE
    # When indexing ends, the example questions are made again, from the new articles too.
    page.wait_for_function(
        "(before) => (document.querySelector('#qa-examples')?.innerText ?? before) !== before",
        arg=examples_before,
        timeout=60_000,
    )
    page.wait_for_timeout(300)
    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    panel = page.locator("#qa-docs-panel").bounding_box()
    upload = page.locator("#qa-doc-upload").bounding_box()
    assert panel is not None and upload is not None
    page.screenshot(  # the list and the upload box under it
        path=str(docs / "documents.png"),
        clip={
            "x": panel["x"] - 8,
            "y": panel["y"] - 8,
            "width": max(panel["width"], upload["width"]) + 16,
            "height": upload["y"] + upload["height"] - panel["y"] + 16,
        },
    )

    page.fill("#qa-question textarea", QUESTION)
    page.click("#qa-ask")
    page.wait_for_selector(ANSWER_DONE, timeout=180_000)
    marker = page.locator("#qa-chat-panel .qa-answer .qa-cite[data-sid^='velmora.txt#']").first
    marker.wait_for(timeout=10_000)
    sid = marker.get_attribute("data-sid")
    marker.click()
    highlighted = page.locator("#qa-source-panel .qa-hl")
    highlighted.wait_for(timeout=30_000)
    assert highlighted.get_attribute("data-sid") == sid
    assert page.inner_text("#qa-source-panel .qa-src-file") == "velmora.txt"
    assert highlighted.locator(".qa-st").inner_text().strip() in ARTICLE
    page.wait_for_timeout(300)
    (ROOT / "artifacts").mkdir(exist_ok=True)
    page.screenshot(path=str(ROOT / "artifacts" / "documents-page.png"))

    # Remove, after the confirmation the panel asks for.
    dialogs: list[str] = []

    def accept(d: object) -> None:
        dialogs.append(d.message)  # type: ignore[attr-defined]
        d.accept()  # type: ignore[attr-defined]

    page.on("dialog", accept)
    page.click(f"{_row('tram.md', 'ready')} .qa-doc-remove")
    page.wait_for_selector("#qa-docs-panel .qa-doc[data-name='tram.md']", state="detached", timeout=60_000)
    assert dialogs and "tram.md" in dialogs[0]
    assert not (live.settings.index.corpus_dir / "tram.md").exists()
    assert page.locator("#qa-docs-panel .qa-doc").count() == 3
    page.close()
