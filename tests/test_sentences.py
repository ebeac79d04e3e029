"""Sentence splitting: stable ids, exact spans, and the cases news text throws at a splitter."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.sentences import Sentence, split_sentences
from index.settings import IndexSettings
from tests.helpers import MAX_CHARS

MAX_SENTENCE_CHARS = IndexSettings().max_sentence_chars

SEEDS = sorted((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))


def _read(path: Path) -> str:
    # As index.corpus reads it: exact bytes decoded, no newline translation, so spans match the file.
    return path.read_bytes().decode("utf-8")


def _texts(text: str) -> list[str]:
    return [s.text for s in split_sentences("a.txt", text, MAX_CHARS)]


def _assert_round_trip(file: str, text: str, sentences: list[Sentence]) -> None:
    assert [s.n for s in sentences] == list(range(1, len(sentences) + 1))
    for s in sentences:
        assert text[s.start : s.end] == s.text, s.id
        assert s.id == f"{file}#{s.n}"
        assert s.file == file
        assert s.text == s.text.strip(), f"{s.id} has untrimmed whitespace"
        assert "\n" not in s.text and "\r" not in s.text, f"{s.id} spans a line break"
    starts = [s.start for s in sentences]
    assert starts == sorted(starts), "sentences are in file order"
    assert all(a.end <= b.start for a, b in zip(sentences, sentences[1:], strict=False)), "no overlap"


def test_seed_corpus_is_present() -> None:
    assert len(SEEDS) == 5


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name)
def test_every_seed_sentence_round_trips(path: Path) -> None:
    text = _read(path)
    sentences = split_sentences(path.name, text, MAX_CHARS)
    assert sentences
    _assert_round_trip(path.name, text, sentences)


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name)
def test_every_non_blank_character_of_a_seed_is_in_some_sentence(path: Path) -> None:
    """Nothing is lost between sentences: only whitespace lies outside every span."""
    text = _read(path)
    covered = bytearray(len(text))
    for s in split_sentences(path.name, text, MAX_CHARS):
        covered[s.start : s.end] = b"\x01" * (s.end - s.start)
    lost = "".join(c for c, hit in zip(text, covered, strict=True) if not hit)
    assert not lost.strip(" \t\r\n\ufeff\u00a0\u200b")


# (seed file prefix, a sentence that must come out whole and exactly like this)
SEED_SENTENCES = [
    (
        "000",
        "Militants have overrun dozens of districts since May 1, when U.S. and NATO troops began their final "
        "withdrawal from Afghanistan.",
    ),
    (
        "000",
        "White House Press Secretary Jen Psaki said June 21 the meeting would also “continue to discuss "
        "how we can work together to ensure that Afghanistan never again becomes a safe haven for terrorist "
        "groups who pose a threat to the U.S. homeland.”",
    ),
    (
        "000",
        "“The Taliban fighters are at the gates of the city and they are fighting Afghan forces,” said "
        "Amruddin Wali, a Kunduz provincial council member.",
    ),
    ("000", "“We have launched operations around the city,” Mujahid said."),
    (
        "004",
        "Dozens of districts have fallen to the Taliban since May 1, when U.S. and NATO troops began their "
        "final departure from Afghanistan.",
    ),
    ("001", "“It’s a dynamic situation, and we’ve said it from the very beginning,” Kirby said."),
    ("001", "Taliban capture key Afghanistan district, adding to string of gains"),
    ("002", "The cities occupied by the Taliban in the last three months"),
    (
        "004",
        "147 Taliban militants were killed and 53 others were wounded as a result of Afghan Army operations "
        "in Nangarhar, Laghman, Uruzgan, Kandahar, Zabul, Faryab, Balkh, Helmand, Nimruz and Kunduz "
        "provinces just on June 20, according to the Afghan Defense Ministry.",
    ),
]


@pytest.mark.parametrize(("prefix", "sentence"), SEED_SENTENCES, ids=lambda v: v[:40])
def test_seed_sentence_stays_whole(prefix: str, sentence: str) -> None:
    (path,) = [p for p in SEEDS if p.name.startswith(prefix)]
    assert sentence in _texts(_read(path))


# (text, the sentences it must split into)
CASES = [
    pytest.param("", [], id="empty"),
    pytest.param("   \n\n\t \r\n", [], id="whitespace-only"),
    pytest.param(
        "Fighting began on Sunday. By noon the district had fallen.",
        ["Fighting began on Sunday.", "By noon the district had fallen."],
        id="two-sentences",
    ),
    pytest.param(
        "Militants have overrun dozens of districts since May 1, when U.S. and NATO troops began their final "
        "withdrawal. Talks have stalled.",
        [
            "Militants have overrun dozens of districts since May 1, when U.S. and NATO troops began their "
            "final withdrawal.",
            "Talks have stalled.",
        ],
        id="U.S.-mid-sentence",
    ),
    pytest.param(
        "Terrorist groups pose a threat to the U.S. homeland. Psaki said so on Monday.",
        ["Terrorist groups pose a threat to the U.S. homeland.", "Psaki said so on Monday."],
        id="U.S.-then-lowercase",
    ),
    pytest.param(
        "He met U.S. President Joe Biden in Washington. Ghani returned on Sunday.",
        ["He met U.S. President Joe Biden in Washington.", "Ghani returned on Sunday."],
        id="U.S.-then-capital",
    ),
    pytest.param(
        "“We have launched operations around the city,” Mujahid said. The city is quiet.",
        ["“We have launched operations around the city,” Mujahid said.", "The city is quiet."],
        id="quote-comma-said",
    ),
    pytest.param(
        "“Are the fighters near?” a reporter asked. “Yes,” he said.",
        ["“Are the fighters near?” a reporter asked.", "“Yes,” he said."],
        id="quote-question-lowercase-tag",
    ),
    pytest.param(
        'The fighters "are at the gates," Wali said. He left.',
        ['The fighters "are at the gates," Wali said.', "He left."],
        id="straight-quotes",
    ),
    pytest.param(
        "Taliban capture key Afghanistan district\nFighters overran the district on Monday.",
        ["Taliban capture key Afghanistan district", "Fighters overran the district on Monday."],
        id="headline-no-period",
    ),
    pytest.param(
        "Taliban capture key Afghanistan district\n\n\n\nFighters overran it. Police said so.\n\n",
        ["Taliban capture key Afghanistan district", "Fighters overran it.", "Police said so."],
        id="blank-lines",
    ),
    pytest.param(
        "Taliban capture key Afghanistan district\r\n\r\nFighters overran it.\r\nPolice said so.\r\n",
        ["Taliban capture key Afghanistan district", "Fighters overran it.", "Police said so."],
        id="crlf",
    ),
    pytest.param(
        "Taliban capture key Afghanistan district\rFighters overran it.\rPolice said so.",
        ["Taliban capture key Afghanistan district", "Fighters overran it.", "Police said so."],
        id="lone-cr",
    ),
    pytest.param(
        "\ufeffTaliban capture key Afghanistan district\nFighters overran it.",
        ["Taliban capture key Afghanistan district", "Fighters overran it."],
        id="utf8-bom",
    ),
    pytest.param(
        "\ufeff\r\nFighters overran it.\u00a0\r\n",
        ["Fighters overran it."],
        id="bom-crlf-nbsp",
    ),
    pytest.param(
        "  \tFighters overran it.   Police said so.  ",
        ["Fighters overran it.", "Police said so."],
        id="surrounding-spaces",
    ),
    pytest.param(
        "The U.N. said 3.5 million people had fled. Another 1.2 million stayed.",
        ["The U.N. said 3.5 million people had fled.", "Another 1.2 million stayed."],
        id="decimals-and-U.N.",
    ),
    pytest.param(
        "Dr. Jones met Mr. Smith at 5 p.m. on Monday. It went well.",
        ["Dr. Jones met Mr. Smith at 5 p.m. on Monday.", "It went well."],
        id="titles-and-p.m.",
    ),
    pytest.param(
        "Taliban militants were within a kilometer (0.6 mile) of Kunduz. They had not entered.",
        ["Taliban militants were within a kilometer (0.6 mile) of Kunduz.", "They had not entered."],
        id="parenthesis",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_split(text: str, expected: list[str]) -> None:
    sentences = split_sentences("a.txt", text, MAX_CHARS)
    assert [s.text for s in sentences] == expected
    _assert_round_trip("a.txt", text, sentences)


def test_ids_are_file_and_one_based_index() -> None:
    sentences = split_sentences(
        "000_abc.txt", "One fact here.\nTwo facts here.\nThree facts here.", MAX_CHARS
    )
    assert [s.id for s in sentences] == ["000_abc.txt#1", "000_abc.txt#2", "000_abc.txt#3"]


def test_spans_point_past_bom_and_crlf() -> None:
    text = "\ufeffHeadline without a period here\r\n\r\nFirst fact. Second fact.\r\n"
    first, second, third = split_sentences("a.txt", text, MAX_CHARS)
    assert (first.start, first.end) == (1, 1 + len("Headline without a period here"))
    assert text[second.start : second.end] == "First fact."
    assert text[third.start : third.end] == "Second fact."


def test_a_5000_word_sentence_is_cut_into_pieces_that_still_round_trip() -> None:
    words = [f"word{i % 97}" for i in range(5000)]
    text = "Intro line here.\n" + " ".join(words) + ".\nOutro line here."
    sentences = split_sentences("long.txt", text, MAX_CHARS)
    _assert_round_trip("long.txt", text, sentences)
    pieces = sentences[1:-1]
    assert len(pieces) > 1
    assert all(len(s.text) <= MAX_SENTENCE_CHARS for s in pieces)
    assert sentences[0].text == "Intro line here."
    assert sentences[-1].text == "Outro line here."
    # The cut is at spaces: joined back, the pieces give the sentence again, word for word.
    assert " ".join(s.text for s in pieces) == " ".join(words) + "."


def test_a_run_without_spaces_is_cut_hard_and_still_round_trips() -> None:
    text = "x" * (3 * MAX_SENTENCE_CHARS + 17)
    sentences = split_sentences("a.txt", text, MAX_CHARS)
    _assert_round_trip("a.txt", text, sentences)
    assert [len(s.text) for s in sentences] == [MAX_SENTENCE_CHARS] * 3 + [17]


def test_boilerplate_is_marked_not_dropped() -> None:
    """The splitter keeps every sentence (ids stay stable); build.evidence_sentences drops the marked ones."""
    text = "Fighters overran the district on Monday.\nShare This\nPolice said 12 were killed."
    sentences = split_sentences("a.txt", text, MAX_CHARS)
    assert [s.boilerplate for s in sentences] == [None, "share", None]
    assert [s.n for s in sentences] == [1, 2, 3]
