"""Web boilerplate never becomes evidence, and the rules are general: news sentences stay evidence."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from index.boilerplate import boilerplate_reason
from index.build import evidence_sentences
from index.sentences import split_sentences
from tests.helpers import MAX_CHARS

SEEDS = {p.name[:3]: p for p in sorted((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))}


def _read(prefix: str) -> tuple[str, str]:
    path = SEEDS[prefix]
    return path.name, path.read_bytes().decode("utf-8")


def _line_span(text: str, fragment: str) -> tuple[int, int]:
    """The (start, end) of the one line of `text` that contains `fragment`."""
    hits = [m for m in re.finditer(r"[^\r\n]+", text) if fragment in m.group()]
    assert len(hits) == 1, f"{fragment!r} is on {len(hits)} lines of the seed"
    return hits[0].span()


# (seed, a fragment of a boilerplate line of that seed): the whole line must be kept out of evidence.
SEED_BOILERPLATE = [
    ("001", "Download the NBC News app for the latest news and politics"),
    ("001", "Ajmal Kakar / Xinhua / Getty Images File"),
    ("002", "Also read: Six more Afghan districts fall"),
    ("002", "Also read: Tens of thousands flee their homes"),
    ("002", "NEWSLETTER SUBSCRIPTION"),
    ("002", "0 Comments"),
    ("002", "Pin It on Pinterest"),
    ("002", "Share This"),
    ("003", "READ MORE:Afghan official"),
    ("004", "By [South Front](#)"),
    ("004", "Region: [Asia](#)"),
    ("004", "All Global Research articles can be read in 51 languages"),
    ("004", "Visit and follow us on Instagram"),
    ("004", "https://southfront.org/wp-content/uploads/video/"),
    ("004", "Note to readers: please click the share buttons"),
    ("004", "SUPPORT SOUTHFRONT"),
    ("004", "PayPal: southfront@list.ru"),
    ("004", "The original source of this article is"),
    ("004", "Copyright © [South Front](#)"),
    ("004", "Comment on Global Research Articles on our Facebook page"),
    ("004", "Become a Member of Global Research"),
    ("004", "Disclaimer: The contents of this article are of sole responsibility"),
    ("004", "www.globalresearch.ca contains copyrighted material"),
    ("004", "For media inquiries: publications@globalresearch.ca"),
]


@pytest.mark.parametrize(("prefix", "fragment"), SEED_BOILERPLATE, ids=lambda v: v[:40])
def test_seed_boilerplate_line_is_not_evidence(prefix: str, fragment: str) -> None:
    file, text = _read(prefix)
    start, end = _line_span(text, fragment)
    line = text[start:end]
    kept, dropped = evidence_sentences(file, text, MAX_CHARS)
    assert dropped > 0
    overlapping = [s.id for s in kept if s.start < end and s.end > start]
    assert overlapping == [], f"evidence taken from boilerplate line {line!r}"
    assert not any(s.text in line or line.strip() in s.text for s in kept)


def test_seed_fair_use_and_disclaimer_sentences_are_all_dropped() -> None:
    """The legal paragraph of seed 004 is several sentences; none of them may be cited."""
    file, text = _read("004")
    kept, _ = evidence_sentences(file, text, MAX_CHARS)
    legal = ("fair use", "copyright", "Centre for Research on Globalization", "PayPal", "patreon", "donate")
    assert [s.text for s in kept if any(w.lower() in s.text.lower() for w in legal)] == []


@pytest.mark.parametrize("prefix", sorted(SEEDS))
def test_no_bare_url_line_is_evidence(prefix: str) -> None:
    file, text = _read(prefix)
    kept, _ = evidence_sentences(file, text, MAX_CHARS)
    assert [s.text for s in kept if re.fullmatch(r"\s*(https?://|www\.)\S+\s*", s.text)] == []


def test_seed_000_has_no_boilerplate_and_keeps_all_18_sentences() -> None:
    file, text = _read("000")
    kept, dropped = evidence_sentences(file, text, MAX_CHARS)
    assert dropped == 0
    assert len(kept) == 18
    assert [s.n for s in kept] == list(range(1, 19))


def test_evidence_keeps_ids_of_the_full_split() -> None:
    """Dropping boilerplate leaves gaps in n, never renumbers: an id means the same sentence always."""
    file, text = _read("004")
    everything = split_sentences(file, text, MAX_CHARS)
    kept, dropped = evidence_sentences(file, text, MAX_CHARS)
    assert len(kept) + dropped == len(everything)
    assert kept == [s for s in everything if s.boilerplate is None]


# Boilerplate from other sites, not the seeds: the rules are patterns of web pages, not a list of lines.
GENERAL_BOILERPLATE = [
    "Sign up for our morning newsletter",
    "Get our free newsletter",
    "Subscribe to our YouTube channel",
    "Subscribe now",
    "Get the latest news delivered to your inbox",
    "Follow us on Twitter @newsdesk",
    "Follow @newsdesk for updates",
    "Like us on Facebook",
    "Join our Telegram channel",
    "Photo: John Smith / AFP via Getty Images",
    "Image credit: Reuters",
    "(Reuters) Photo by Jane Doe/EPA",
    "File photo: Afghan soldiers in Kunduz. (AP Photo/Rahmat Gul)",
    "© 2024 Example Media. All rights reserved.",
    "Copyright 2023 The Associated Press. All rights reserved.",
    "This material may not be published, broadcast, rewritten or redistributed.",
    "Download the Guardian app today",
    "Download our app",
    "Click here to donate now",
    "Support independent journalism. Donate today.",
    "Please support our work",
    "Become a patron",
    "Related: How the war began",
    "Read more: Taliban seize border crossing",
    "Read next: Biden to meet Ghani",
    "More from Example News",
    "Watch: Taliban fighters enter Kunduz",
    "Share on Facebook",
    "Share this article",
    "Share via Email",
    "SHARE",
    "Click to share on Twitter (Opens in new window)",
    "Leave a comment",
    "12 Comments",
    "Skip to main content",
    "Listen to this article",
    "Continue reading",
    "Read the full story here",
    "Reporting by John Smith; Editing by Jane Doe",
    "By Jane Doe and John Smith",
    "Posted by Editor at 10:00 AM",
    "Published on 21/06/2021 at 10:00",
    "Tags: Afghanistan, Taliban",
    "Contact us at news@example.com",
    "https://example.com/news/123",
    "www.example.com",
    "[Home](/) | [World](/world)",
    "Advertisement",
    "ADVERTISEMENT",
    "Privacy Policy",
    "WORLD NEWS TODAY",
]


@pytest.mark.parametrize("line", GENERAL_BOILERPLATE)
def test_general_boilerplate_is_flagged(line: str) -> None:
    assert boilerplate_reason(line) is not None


# News sentences that use the same words as boilerplate (share, follow, donate, photo, Reuters, by, ...).
NEWS = [
    "The spokesman said on Twitter that the talks had failed.",
    "Both countries share the border region.",
    "Shares of the company fell 5 percent on Monday.",
    "Share prices fell 5 percent on Monday.",
    "The minister declined to comment on the report.",
    "The United Nations pledged to donate vaccines to the region.",
    "Reuters reported that 12 people were killed.",
    "He said the group would follow the ceasefire.",
    "Police could not pin it on the Taliban.",
    "Netflix subscription prices rose 10 percent in the quarter.",
    "The group's weekly newsletter said 12 fighters were killed.",
    "Millions rushed to download the new contact-tracing app.",
    "PayPal shares rose 3 percent after the report.",
    "The court ruled that the copying was fair use of the footage.",
    "Copyright law was changed in 2019.",
    "By Monday the Taliban controlled 50 districts.",
    "By noon the militants had taken the district.",
    "The Reuters/Ipsos poll found 60 percent support the withdrawal.",
    "A photo showed fighters at the gate / checkpoint.",
    "Kabul, June 21 (Reuters) - Taliban fighters overran a district.",
    "Xinhua reported that the bridge collapsed.",
    "Getty Images photographers were detained at the border.",
    "Published reports said 20 civilians died.",
    "Support for the war fell to 40 percent.",
    "The group said it would support the new government.",
    "Related talks will resume next week.",
    "Watch towers were built along the border.",
    "The U.S. will share intelligence with Kabul.",
    "Taliban killed 12.",
    "Turnout was 60%.",
    "The Taliban posted the video on Twitter.",
    "Comments by the minister drew criticism.",
    "Officials declined to comment.",
]


@pytest.mark.parametrize("line", NEWS)
def test_news_sentence_is_not_flagged(line: str) -> None:
    assert boilerplate_reason(line) is None


def _seed_000_sentences() -> list[str]:
    file, text = _read("000")
    return [s.text for s in split_sentences(file, text, MAX_CHARS)]


@pytest.mark.parametrize("sentence", _seed_000_sentences(), ids=lambda s: s[:40])
def test_seed_000_sentence_is_not_flagged(sentence: str) -> None:
    assert boilerplate_reason(sentence) is None


# (line, the rule that must name it): a warning can say why a line was dropped.
REASONS = [
    ("", "blank"),
    ("   ", "blank"),
    ("Share This", "share"),
    ("NEWSLETTER SUBSCRIPTION", "subscribe"),
    ("Download the NBC News app for the latest news and politics", "app"),
    ("https://southfront.org/video.mp4", "link_only"),
    ("*", "link_only"),
    ("People leave Kunduz", "fragment"),
    ("INTERNATIONAL RELATIONS TODAY NOW", "caps_label"),
]


@pytest.mark.parametrize(("line", "reason"), REASONS)
def test_reason_names_the_rule(line: str, reason: str) -> None:
    assert boilerplate_reason(line) == reason
