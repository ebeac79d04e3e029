"""The baseline's output mapping (qa/eval/baseline.py), pure: markers, chunk citations, refusals."""

from __future__ import annotations

import pytest

from index.sentences import split_sentences
from index.settings import IndexSettings
from qa.eval.baseline import REFUSAL_CUES, chunk_citation, locate, map_markers
from qa.eval.citations import Sources, invalid_reason
from tests.helpers import MAX_CHARS

FILE = "a.txt"
TEXT = (
    "The Taliban took Imam Sahib on Monday. Police said 50 fighters were killed.\n\n"
    "Talks in Qatar have stalled.\n"
)
SENTS = split_sentences(FILE, TEXT, MAX_CHARS)


@pytest.mark.parametrize(
    ("answer", "n_sources", "rewritten", "cited"),
    [
        ("A [2], b [1].", 3, "A [1], b [2].", [2, 1]),
        ("a [1, 3] b [3].", 3, "a [1, 2] b [2].", [1, 3]),
        ("a [1] b [7].", 2, "a [1] b [2].", [1]),  # [7] has no source: past the last citation
        ("a [5].", 2, "a [1].", []),  # no citations at all, so [1] points at nothing
        ("no markers.", 2, "no markers.", []),
        ("a [2][2].", 2, "a [1][1].", [2]),
    ],
)
def test_map_markers(answer: str, n_sources: int, rewritten: str, cited: list[int]) -> None:
    assert map_markers(answer, n_sources) == (rewritten, cited)


@pytest.mark.parametrize(
    ("chunk", "valid", "sentence"),
    [
        ("The Taliban took Imam Sahib on Monday.", True, 1),  # a chunk that is one sentence is valid
        ("Talks in Qatar have stalled.\n", True, 3),
        ("The Taliban took Imam Sahib on Monday. Police said 50 fighters were killed.", False, 1),
        ("Police said 50 fighters were killed.\n\nTalks in Qatar", False, 2),
        # whitespace differs: located, and the file's own text at that span is the quote
        ("Police said 50 fighters\nwere killed.", True, 2),
        ("Something the file never says.", False, 0),
    ],
)
def test_chunk_citation_is_valid_only_when_it_is_one_sentence(chunk: str, valid: bool, sentence: int) -> None:
    c = chunk_citation(FILE, chunk, TEXT, SENTS)
    assert c.sentence == sentence
    assert (
        invalid_reason(c.model_dump(), Sources({FILE: TEXT}, IndexSettings().max_sentence_chars)) is None
    ) is valid
    if sentence:
        assert TEXT[c.start : c.end] == c.quote


def test_locate() -> None:
    assert locate("Talks in Qatar", TEXT) == (77, 91)
    assert locate("Talks in Qatar", TEXT, hint=77) == (77, 91)
    assert locate("Police  said\n50", TEXT) == (39, 53)
    assert locate("", TEXT) is None
    assert locate("absent", TEXT) is None


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("None of the sources are helpful for this question.", True),
        ("The provided sources do not mention the governor.", True),
        ("The information is not provided in the sources.", True),
        ("I cannot answer this question.", True),
        ("Empty Response", True),
        ("The Taliban captured Imam Sahib [1].", False),
        ("It was not clear how many soldiers died [2].", False),
    ],
)
def test_refusal_cues(text: str, refused: bool) -> None:
    assert bool(REFUSAL_CUES.search(text)) is refused
