"""The versions of a disagreement side by side in the chat, in a real headless Chromium.

The seeds disagree on one distance: four articles give one kilometre (as "1 kilometer", "one kilometer",
"a kilometer (0.6 mile)" and "a kilometre"), one of them converts it to "6 miles". The chat shows both
versions with their article counts, and a marker of a version opens its source with the cited sentence
highlighted. Saves a screenshot to artifacts/ui-conflicts.png.
"""

from __future__ import annotations

from tests.live_server import ROOT, LiveServer
from tests.test_ui_browser import ANSWER_DONE, browser, live, pytestmark  # noqa: F401 (shared fixtures)

DISTANCE = "How close did the Taliban get to the city of Kunduz?"


def test_versions_side_by_side_with_counts_and_markers_that_open_sources(
    live: LiveServer,  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    from playwright.sync_api import Browser, Page

    assert isinstance(browser, Browser)
    page: Page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(live.url + "/ui/")
    page.wait_for_selector("#qa-question textarea", timeout=60_000)
    page.fill("#qa-question textarea", DISTANCE)
    page.click("#qa-ask")
    page.wait_for_selector(ANSWER_DONE, timeout=180_000)
    versions = page.locator("#qa-chat-panel .qa-answer .qa-versions .qa-version")
    assert versions.count() == 2, page.inner_text("#qa-chat-panel")
    values = [versions.nth(i).locator(".qa-version-value").inner_text() for i in range(2)]
    counts = [versions.nth(i).locator(".qa-version-files").inner_text() for i in range(2)]
    assert values[1] == "6 miles" and "kilomet" in values[0]
    assert counts == ["4 articles", "1 article"]
    # Side by side: the two columns share a row.
    boxes = [versions.nth(i).bounding_box() for i in range(2)]
    assert boxes[0] and boxes[1] and abs(boxes[0]["y"] - boxes[1]["y"]) < 2 and boxes[0]["x"] < boxes[1]["x"]

    marker = versions.nth(1).locator(".qa-cite").first
    sid = marker.get_attribute("data-sid")
    marker.click()
    highlighted = page.locator("#qa-source-panel .qa-hl")
    highlighted.wait_for(timeout=30_000)
    assert highlighted.get_attribute("data-sid") == sid
    assert "6 miles" in highlighted.inner_text()
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / "ui-conflicts.png"))
    page.close()
