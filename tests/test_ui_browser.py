"""The chat in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

Asks a question, waits for the streamed answer, clicks a citation marker, and checks that the sentence
highlighted in the source panel is the cited one. Saves a screenshot to artifacts/ui.png. Also checks that
hostile text is shown as text, that each browser session has its own conversation, and that the page
loads nothing from outside the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_server import ROOT, LiveServer, shared_server, stop_shared

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
QUESTION = "Which district did the Taliban take?"
HOSTILE = (
    'What is <b>bold</b> **stars** <script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">?'
)
ANSWER_DONE = "#qa-chat-panel .qa-answer, #qa-chat-panel .qa-refusal, #qa-chat-panel .qa-error"

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="/usr/bin/chromium is absent: install it with `apt-get install -y chromium` (Debian)",
    ),
    # Gradio's queue statistics use pandas options that pandas 3 deprecates; not ours to fix.
    pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|The copy keyword is deprecated)"),
]


@pytest.fixture(scope="session")
def live(seed_data_dir: Path) -> Iterator[LiveServer]:
    """The real server, started once per session (shared with tests/test_api.py)."""
    yield shared_server(seed_data_dir)
    stop_shared()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium from Debian; Playwright's own browser download is never used."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


def test_ask_click_marker_and_see_the_cited_sentence(live: LiveServer, browser: object) -> None:
    from playwright.sync_api import Browser, Page

    assert isinstance(browser, Browser)
    page: Page = browser.new_page(viewport={"width": 1400, "height": 900})
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((live.url, "data:")) else None)
    page.goto(live.url + "/")
    assert page.url.endswith("/ui/")
    page.wait_for_selector("#qa-question textarea", timeout=60_000)
    # The backend and model in use are shown.
    page.wait_for_function(
        "(document.querySelector('.qa-status')?.innerText ?? '').includes('llamacpp')",
        timeout=60_000,
    )
    page.fill("#qa-question textarea", QUESTION)
    page.click("#qa-ask")
    page.wait_for_selector(ANSWER_DONE, timeout=180_000)
    assert page.locator("#qa-chat-panel .qa-answer").count() == 1, page.inner_text("#qa-chat-panel")

    marker = page.locator("#qa-chat-panel .qa-answer .qa-text .qa-cite").first
    k = marker.get_attribute("data-k")
    sid = marker.get_attribute("data-sid")
    footnote = page.locator(f"#qa-chat-panel .qa-footnotes li:has(.qa-cite[data-k='{k}'])")
    quote = footnote.locator(".qa-fn-quote").inner_text().strip().strip("“”")
    marker.click()
    highlighted = page.locator("#qa-source-panel .qa-hl")
    highlighted.wait_for(timeout=30_000)
    assert highlighted.count() == 1
    assert highlighted.get_attribute("data-sid") == sid
    assert highlighted.locator(".qa-st").inner_text().strip() == quote
    assert page.inner_text("#qa-source-panel .qa-src-file") == sid.split("#")[0]  # type: ignore[union-attr]
    assert highlighted.is_visible()

    page.wait_for_timeout(300)  # let the panel finish scrolling the sentence into view
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / "ui.png"))
    assert outside == [], f"the page loaded resources from outside the server: {outside}"
    page.close()


def test_hostile_text_is_shown_as_text_in_a_separate_session(live: LiveServer, browser: object) -> None:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    page = browser.new_page()
    page.goto(live.url + "/ui/")
    page.wait_for_selector("#qa-question textarea", timeout=60_000)
    assert page.locator("#qa-chat-panel .qa-turn").count() == 0  # a new session starts empty
    page.fill("#qa-question textarea", HOSTILE)
    page.keyboard.press("Enter")
    page.wait_for_selector(ANSWER_DONE, timeout=180_000)
    user_text = page.locator("#qa-chat-panel .qa-user .qa-text").inner_text()
    assert user_text == HOSTILE
    assert page.locator("#qa-chat-panel img, #qa-chat-panel script, #qa-chat-panel b").count() == 0
    assert page.evaluate("window.__pwned") is None
    page.close()
