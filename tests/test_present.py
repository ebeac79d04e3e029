"""Presenting answers: footnotes and marker groups (qa/present.py) and the chat's HTML (ui/render.py).

Pure functions, tested with hand-written answers: hostile text must come out escaped, markers must become
buttons only where they point at a citation, the versions of a disagreement and multi-article reports must
be visible.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest

from qa import prompts
from qa.present import (
    footnote_lines,
    marker_groups,
    siblings,
    unsent_claims,
    with_footnotes,
)
from qa.schemas import SourceDoc, SourceSentence
from qa.types import Answer, Citation, Conflict
from ui.render import render_chat, render_source

EVIL = '<script>alert(1)</script><img src=x onerror="alert(2)"> **bold** [x](javascript:alert(3))'


def cite(file: str, n: int, quote: str) -> Citation:
    return Citation(id=f"{file}#{n}", file=file, sentence=n, quote=quote, start=0, end=len(quote))


REPORTED = Answer(
    question="How many fighters were killed?",
    answer="Rahmani said about 50 Taliban fighters were killed [1][2][3]. Rahmani said 60 Taliban fighters "
    "were killed [4].",
    refused=False,
    citations=[
        cite("a.txt", 9, "Rahmani said his forces had killed about 50 Taliban fighters."),
        cite("b.txt", 13, "Rahmani said his forces had killed about 50 Taliban fighters."),
        cite("c.txt", 9, "Rahmani said his forces had killed about 50 Taliban fighters."),
        cite("d.txt", 4, "Rahmani said his forces had killed 60 Taliban fighters."),
    ],
    reported_by={"a.txt#9": 3, "b.txt#13": 3, "c.txt#9": 3, "d.txt#4": 1},
    conflicts=[
        Conflict(value="about 50", citations=[1, 2, 3], files=3),
        Conflict(value="60", citations=[4], files=1),
    ],
    model="llamacpp:test",
    mode="generated",
)


class Tags(HTMLParser):
    """Collects the tags and attributes of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def render_answer(answer: Answer, articles: int) -> str:
    """The chat with one turn: `answer`'s question and the answer."""
    return render_chat([{"question": answer.question, "answer": answer.model_dump()}], articles)


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    p = Tags()
    p.feed(html)
    return p.tags


def test_footnotes_follow_the_answer() -> None:
    assert (
        footnote_lines(REPORTED)[1]
        == "[2] b.txt, sentence 13: “Rahmani said his forces had killed about 50 Taliban fighters.”"
    )
    assert with_footnotes(REPORTED).startswith(REPORTED.answer + "\n\n[1] a.txt, sentence 9: “")
    refusal = Answer(question="q", answer=prompts.REFUSAL, refused=True)
    assert with_footnotes(refusal) == prompts.REFUSAL


@pytest.mark.parametrize(
    ("text", "n", "groups"),
    [
        ("A [1][2][3]. B [4].", 4, [[1, 2, 3], [4]]),
        ("A [1]. B [1][2].", 2, [[1], [1, 2]]),
        ("A [1][9]. B [0].", 2, [[1]]),  # markers that point at no citation are not groups
        ("A [1, 2]. B [ 3 ][4].", 4, [[1, 2], [3, 4]]),  # the one marker grammar (qa.cite.MARKER)
        ("No markers.", 0, []),
    ],
)
def test_marker_groups(text: str, n: int, groups: list[list[int]]) -> None:
    a = Answer(
        question="q", answer=text, refused=False, citations=[cite("f.txt", i, "x") for i in range(1, n + 1)]
    )
    assert marker_groups(a) == groups


def test_siblings() -> None:
    assert siblings(REPORTED, 2) == [1, 2, 3]
    assert siblings(REPORTED, 4) == [4]


def test_unsent_claims_fill_in_what_the_stream_did_not_send() -> None:
    first = "Rahmani said about 50 Taliban fighters were killed"
    rest = unsent_claims(REPORTED, [first + "."])
    assert [c["sentence_ids"] for c in rest] == [["d.txt#4"]]
    assert rest[0]["citations"][0]["quote"] == REPORTED.citations[3].quote
    assert [c["sentence_ids"] for c in unsent_claims(REPORTED, [])][0] == ["a.txt#9", "b.txt#13", "c.txt#9"]


def test_answer_html_has_marker_buttons_versions_and_reports() -> None:
    html = render_answer(REPORTED, articles=5)
    buttons = [a for t, a in tags(html) if t == "button"]
    assert {b["data-k"] for b in buttons} == {"1", "2", "3", "4"}
    assert all(b["data-turn"] == "0" for b in buttons)
    versions = [a for t, a in tags(html) if t == "div" and a.get("class") == "qa-version"]
    assert len(versions) == 2 and ">about 50</div>" in html and ">3 articles</div>" in html
    assert html.count("reported by 3 of 5 articles") == 3


def test_refusal_looks_different_from_an_answer() -> None:
    refusal = Answer(question="q", answer=prompts.REFUSAL, refused=True, notes=["nothing matches"])
    html = render_answer(refusal, articles=5)
    assert "qa-refusal" in html and "qa-answer" not in html and "Why: nothing matches" in html
    assert "<button" not in html


def test_hostile_text_is_escaped_everywhere() -> None:
    evil = Answer(
        question=EVIL,
        answer=f"“{EVIL} [1]” [2]",
        refused=False,
        citations=[cite(f"{EVIL}.txt", 1, EVIL), cite("ok.txt", 2, EVIL)],
        reported_by={},
        model=EVIL,
        notes=[EVIL],
    )
    turns: list[dict[str, Any]] = [
        {"question": EVIL, "answer": evil.model_dump(), "draft": "", "claims": 0, "error": None},
        {"question": EVIL, "answer": None, "draft": EVIL, "claims": 1, "error": None},
        {"question": EVIL, "answer": None, "draft": "", "claims": 0, "error": EVIL},
    ]
    doc = SourceDoc(
        file=f"{EVIL}.txt", sentences=[SourceSentence(id=f"{EVIL}.txt#1", n=1, start=0, end=3, text=EVIL)]
    )
    for html in (render_chat(turns, 2), render_source(doc, evil, 0, 1, 2)):
        found = {t for t, _ in tags(html)}
        assert not found & {"script", "img", "a", "b", "strong"}, found
        assert not any(k.startswith("on") for _, attrs in tags(html) for k in attrs)
        assert "&lt;script&gt;" in html
        # Only the two real markers became buttons; "[x]" stayed text.
        assert {a.get("data-k") for t, a in tags(html) if t == "button"} <= {"1", "2"}
    assert re.search(r"\[x\]\(javascript:alert\(3\)\)", render_chat(turns, 2))


def test_source_highlights_the_cited_sentence_and_lists_other_reports() -> None:
    doc = SourceDoc(
        file="b.txt",
        sentences=[
            SourceSentence(id="b.txt#12", n=12, start=0, end=5, text="Before."),
            SourceSentence(id="b.txt#13", n=13, start=6, end=70, text=REPORTED.citations[1].quote),
            SourceSentence(id="b.txt#15", n=15, start=80, end=90, text="After a gap."),
        ],
    )
    html = render_source(doc, REPORTED, 0, 2, articles=5)
    hl = [a for t, a in tags(html) if t == "div" and "qa-hl" in (a.get("class") or "")]
    assert [a["data-sid"] for a in hl] == ["b.txt#13"]
    assert "Reported by 3 of 5 articles" in html
    assert {a["data-k"] for t, a in tags(html) if t == "button"} == {"1", "2", "3"}
    assert "qa-gap" in html  # sentence 14 is not indexed (boilerplate)


def test_source_marks_the_short_answer_inside_the_cited_sentence() -> None:
    quote = "Rahmani said his forces had killed about 50 Taliban <b>fighters</b>."
    c = Citation(id="e.txt#3", file="e.txt", sentence=3, quote=quote, start=100, end=100 + len(quote))
    c.answer_start, c.answer_end = 100 + quote.index("about 50"), 100 + quote.index("about 50") + 8
    answer = Answer(question="How many?", answer="about 50 [1].", refused=False, citations=[c])
    doc = SourceDoc(
        file="e.txt", sentences=[SourceSentence(id="e.txt#3", n=3, start=100, end=c.end, text=quote)]
    )
    html = render_source(doc, answer, 0, 1, articles=1)
    assert '<mark class="qa-ans">about 50</mark>' in html
    assert "&lt;b&gt;fighters&lt;/b&gt;" in html  # the rest of the sentence is still escaped
    # a citation without a phrase is only highlighted
    c.answer_start = c.answer_end = None
    assert "<mark" not in render_source(doc, answer, 0, 1, articles=1)
