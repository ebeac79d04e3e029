"""The chat shows a verified answer before the model finishes, then the refined one; Stop keeps the first.

A real server (the answer pipeline over the seed index, QA_REFINE=always, the chat UI) in a real headless
Chromium. The model is a fake that waits until the test lets it go (`release`) and then replies with the
first four words of the first evidence sentence it was shown: for the question below that is the
spokesman's title and name, which the pipeline verifies and prefers to its own shorter extractive answer
(the name alone). So the draft and the refined answer differ, and the test holds the model to look at the
page in between. Screenshots go to artifacts/ui_refine_*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from qa.pipeline import Pipeline
from qa.retrieve import Retriever
from qa.service import QAService
from tests import test_ui_browser
from tests.live_server import (
    ROOT,
    SEEDS,
    LiveServer,
    ScriptedLLM,
    serve,
    settings_from_env,
    wait_until,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

QUESTION = "Who confirmed that Imam Sahib district was in Taliban hands?"
DRAFT = "Zabihullah Mujahed"  # the extractive answer: the name
REFINED = "Taliban spokesman Zabihullah Mujahed"  # the model's: title and name
DRAFT_CARD = "#qa-chat-panel .qa-draft-answer .qa-answer"
FINAL_CARD = "#qa-chat-panel .qa-turn > .qa-answer"

pytestmark = test_ui_browser.pytestmark  # skipped without Chromium, as the first browser test


class HeldLLM(ScriptedLLM):
    """The scripted backend held until `release`, replying with the first four words of the first
    evidence sentence."""

    name = "first-words"

    def __init__(self) -> None:
        super().__init__()
        self.mode = "block"

    def stream(self, system: str, user: str, max_tokens: int) -> Iterator[str]:
        words = "".join(super().stream(system, user, max_tokens)).split()[:4]
        for i, w in enumerate(words):
            yield w if i == 0 else " " + w


@pytest.fixture(scope="module")
def held(seed_data_dir: Path) -> Iterator[tuple[LiveServer, HeldLLM]]:
    settings = settings_from_env(QA_DATA_DIR=str(seed_data_dir), QA_CORPUS_DIR=str(SEEDS), QA_REFINE="always")
    llm = HeldLLM()
    server = serve(
        QAService(settings, pipeline=Pipeline(settings, llm=llm, retriever=Retriever(settings))), ui=True
    )
    yield server, llm
    llm.release.set()
    server.stop()


browser = test_ui_browser.browser  # the same headless Chromium fixture


def _refining(server: LiveServer, browser: Browser, llm: HeldLLM) -> Page:
    """A page that asked QUESTION and shows its verified answer while the model is held."""
    llm.entered.clear()
    llm.release.clear()
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(server.url + "/ui/")
    page.wait_for_selector("#qa-question textarea", timeout=60_000)
    page.fill("#qa-question textarea", QUESTION)
    page.click("#qa-ask")
    page.wait_for_selector(DRAFT_CARD, timeout=120_000)
    assert llm.entered.wait(30) and not llm.release.is_set()  # the model is still running
    return page


def _shot(page: Page, name: str) -> None:
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / f"ui_refine_{name}.png"))


def test_the_verified_answer_shows_before_the_model_finishes_then_the_refined_one(
    held: tuple[LiveServer, HeldLLM], browser: Browser
) -> None:
    server, llm = held
    page = _refining(server, browser, llm)
    text = page.inner_text(DRAFT_CARD + " .qa-text").strip()
    assert text.startswith(DRAFT) and not text.startswith(REFINED), text
    assert "Refining with the model" in page.inner_text("#qa-chat-panel .qa-refining")
    assert page.locator(DRAFT_CARD + " .qa-footnotes li").count() >= 1
    # The draft's citations work as they will in the final answer.
    marker = page.locator(DRAFT_CARD + " .qa-text .qa-cite").first
    sid = marker.get_attribute("data-sid")
    marker.click()
    page.wait_for_selector("#qa-source-panel .qa-hl", timeout=30_000)
    assert page.locator("#qa-source-panel .qa-hl").get_attribute("data-sid") == sid
    _shot(page, "draft")

    llm.release.set()
    page.wait_for_selector(FINAL_CARD, timeout=60_000)
    assert page.locator("#qa-chat-panel .qa-refining").count() == 0
    final = page.inner_text(FINAL_CARD + " .qa-text").strip()
    assert final.startswith(REFINED), final
    assert "written by the model" in page.inner_text(FINAL_CARD + " .qa-meta")
    _shot(page, "refined")
    page.close()


def test_stop_keeps_the_verified_answer_and_cancels_the_model(
    held: tuple[LiveServer, HeldLLM], browser: Browser
) -> None:
    server, llm = held
    page = _refining(server, browser, llm)
    page.click("#qa-chat-panel .qa-stop")
    page.wait_for_selector(FINAL_CARD, timeout=30_000)
    assert not llm.release.is_set()  # answered although the model never finished
    final = page.inner_text(FINAL_CARD + " .qa-text").strip()
    assert final.startswith(DRAFT) and not final.startswith(REFINED), final
    assert "Refinement stopped" in page.inner_text("#qa-chat-panel .qa-stopped")
    assert page.locator("#qa-chat-panel .qa-refining").count() == 0
    _shot(page, "stopped")
    llm.release.set()  # the held generation ends; the cancelled run frees the model
    wait_until(lambda: server.service.health().queue.at_model == 0, timeout=30)
    page.close()
