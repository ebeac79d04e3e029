"""Short-answer metrics (qa/eval/short.py and their use in qa/eval/metrics.py), against hand-computed values.

Every expected number below was worked out by hand from the tiny corpus, not by the code under test:

    r.txt   sentence 1 [0, 27)  "The Rhine is 1,230 km long."
            sentence 2 [28, 58) "It empties into the North Sea."
            (a blank line, 58..60)
            sentence 3 [60, 84) "Basel lies on the Rhine."
"""

from __future__ import annotations

from typing import Any

import pytest

from index.sentences import split_sentences
from index.settings import IndexSettings
from qa.eval import short
from qa.eval.citations import Sources
from qa.eval.metrics import score_record, summarize
from qa.eval.pairs import Evidence, Pair

MAX_CHARS = IndexSettings().max_sentence_chars

FILE = "r.txt"
TEXT = "The Rhine is 1,230 km long. It empties into the North Sea.\n\nBasel lies on the Rhine."
SPANS = {1: (0, 27), 2: (28, 58), 3: (60, 84)}
REFUSAL = "I cannot answer that from the articles."

LENGTH = Pair(
    "length",
    "How long is the Rhine?",
    file=FILE,
    gold=("1,230 km", "1,230 kilometres"),
    spans=((13, 21), (13, 21)),
)
SMALLEST = Pair(
    "smallest",
    "Into which sea does the Danube empty?",
    answerable=False,
    file=FILE,
    plausible=("the North Sea",),
    plausible_spans=((44, 57),),
)


def test_the_corpus_is_as_the_docstring_says() -> None:
    assert {s.n: (s.start, s.end) for s in split_sentences(FILE, TEXT, MAX_CHARS)} == SPANS
    assert TEXT[13:21] == "1,230 km" and TEXT[44:57] == "the North Sea"


def cite(n: int, **override: Any) -> dict[str, Any]:
    start, end = SPANS[n]
    c: dict[str, Any] = {
        "id": f"{FILE}#{n}",
        "file": FILE,
        "sentence": n,
        "quote": TEXT[start:end],
        "start": start,
        "end": end,
    }
    return c | override


def record(answer: str, citations: list[dict[str, Any]], refused: bool = False) -> dict[str, Any]:
    return {"answer": answer, "refused": refused, "citations": citations, "retrieved": [], "timings": {}}


# ---- pieces ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("The Rhine is 1,230 km long.", "rhine is 1230 km long"),
        ("  A   river, an ocean & THE sea!", "river ocean sea"),  # & is ASCII punctuation: removed
        ("“Thé” — théâtre…", "thé théâtre"),  # Unicode quotes, dash and ellipsis removed; accents kept
        ("anthem theatre", "anthem theatre"),  # articles only as whole words
        ("the", ""),
    ],
)
def test_squad_normalize(text: str, normalized: str) -> None:
    assert short.squad_normalize(text) == normalized


@pytest.mark.parametrize(
    ("answer", "refused", "expected", "words"),
    [
        ("1185 [3].", False, "1185.", 1),
        ("“The Rhine is 1,230 km long.” [1]", False, "The Rhine is 1,230 km long.", 6),
        ('"Basel" [3].', False, "Basel.", 1),
        ("“Basel lies on the Rhine”. [3]", False, "Basel lies on the Rhine.", 5),
        ("Basel [3]. It lies on the Rhine [3].", False, "Basel.", 6),  # only the first claim
        ("It is ‘long’ [1] and “wide” [2].", False, "It is ‘long’ and “wide”.", 5),  # not enclosing
        (REFUSAL, True, None, 7),
        ("", False, None, 0),
    ],
)
def test_short_answer_and_word_count(answer: str, refused: bool, expected: str | None, words: int) -> None:
    assert short.short_answer(answer, refused) == expected
    assert short.word_count(answer) == words


@pytest.mark.parametrize(
    ("prediction", "gold", "f1"),
    [
        ("1,230 km.", "1,230 km", 1.0),
        ("The Rhine is 1,230 km long.", "1,230 km", 4 / 7),  # P 2/5, R 2/2: 2·0.4·1/1.4
        ("About 1,230 kilometres.", "1,230 kilometres", 0.8),  # P 2/3, R 1
        ("About 1,230 kilometres.", "1,230 km", 0.4),  # P 1/3, R 1/2
        ("Basel", "1,230 km", 0.0),
        ("km km", "km", 2 / 3),  # tokens count with multiplicity: P 1/2, R 1
    ],
)
def test_token_f1(prediction: str, gold: str, f1: float) -> None:
    assert short.token_f1(prediction, gold) == pytest.approx(f1)


def test_exact_match_and_containment() -> None:
    assert short.exact_match("The 1,230 km!", ["1,230 km"])
    assert not short.exact_match("1,230 km long", ["1,230 km"])
    assert not short.exact_match(None, ["1,230 km"])
    assert short.contains_phrase("“The Rhine is 1,230 km long.” [1]", "1,230 km")
    assert not short.contains_phrase("12,300 km", "1,230 km")
    assert not short.contains_phrase("Basel lies [1]", "1")  # the marker is not text
    assert not short.contains_phrase("anything", "the")  # normalises to nothing
    assert short.contains_groups("Biden met Ghani", [["Biden"], ["Ghani", "Ashraf Ghani"]])
    assert not short.contains_groups("Biden met", [["Biden"], ["Ghani"]])
    assert not short.contains_groups("Biden", [])


# ---- span coverage --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cited", "span", "covered"),
    [
        ([1], (13, 21), True),  # inside
        ([1], (0, 27), True),  # the whole sentence
        ([1], (22, 27), True),  # "long." ends exactly at the citation's end (b == end): covered
        ([1], (27, 29), False),  # starts at the citation's end: outside
        ([2], (48, 58), True),  # "North Sea." touching the end of sentence 2
        ([2], (48, 59), False),  # one character past the end
        ([1], (22, 38), False),  # "long. It empties" runs into sentence 2, which is not cited
        ([1, 2], (22, 38), True),  # both cited: contiguous, the space between them is covered
        ([2, 1], (22, 38), True),  # order of citation does not matter
        ([2, 3], (48, 65), True),  # across the blank line between sentences 2 and 3
        ([1, 3], (22, 65), False),  # sentence 2 between them is not cited: not contiguous
        ([1, 3], (13, 21), True),
        ([3], (13, 21), False),
        ([], (13, 21), False),
    ],
)
def test_cites_span(cited: list[int], span: tuple[int, int], covered: bool) -> None:
    assert short.cites_span([cite(n) for n in cited], FILE, TEXT, [span]) is covered


def test_citations_of_another_file_cover_nothing() -> None:
    assert not short.cites_span([cite(1, file="other.txt")], FILE, TEXT, [(13, 21)])


# ---- per record and summary -----------------------------------------------------------------------------
CASES: list[tuple[Pair, dict[str, Any], dict[str, Any]]] = [
    (
        LENGTH,
        record("1,230 km [1].", [cite(1)]),
        {"short_answer": "1,230 km.", "exact_match": True, "short_answer_f1": 1.0, "contains_gold": True}
        | {"cited_gold_span": True, "answer_words": 2, "short_answer_words": 2, "evidence_hit": True},
    ),
    (
        LENGTH,
        record("“The Rhine is 1,230 km long.” [1]", [cite(1)]),
        {"short_answer": "The Rhine is 1,230 km long.", "exact_match": False, "short_answer_f1": 4 / 7}
        | {"contains_gold": True, "cited_gold_span": True, "answer_words": 6, "short_answer_words": 6},
    ),
    (
        LENGTH,
        record("About 1,230 kilometres [1].", [cite(2)]),  # right words, wrong sentence cited
        {"short_answer": "About 1,230 kilometres.", "exact_match": False, "short_answer_f1": 0.8}
        | {"contains_gold": True, "cited_gold_span": False, "answer_words": 3, "evidence_hit": False},
    ),
    (
        LENGTH,
        record("1,230 km [1].", [cite(1, quote="The Rhine is 1,230 km long")]),  # invalid citation
        {"exact_match": True, "contains_gold": True, "cited_gold_span": False, "citations_valid": 0},
    ),
    (
        LENGTH,
        record(REFUSAL, [], refused=True),
        {"short_answer": None, "exact_match": False, "short_answer_f1": 0.0, "contains_gold": False}
        | {"cited_gold_span": False, "answer_words": None, "fooled_by_plausible": None},
    ),
    (
        SMALLEST,
        record("It empties into the North Sea [1].", [cite(2)]),
        {"fooled_by_plausible": True, "exact_match": None, "short_answer_f1": None, "contains_gold": None}
        | {"cited_gold_span": None, "answer_words": 6},
    ),
    (SMALLEST, record(REFUSAL, [], refused=True), {"fooled_by_plausible": False}),
    (SMALLEST, record("Basel [1].", [cite(3)]), {"fooled_by_plausible": False}),
]


@pytest.mark.parametrize(("pair", "rec", "expected"), CASES)
def test_score_record_short_metrics(pair: Pair, rec: dict[str, Any], expected: dict[str, Any]) -> None:
    got = score_record(pair, rec, Sources({FILE: TEXT}, MAX_CHARS))
    for key, value in expected.items():
        assert got[key] == (pytest.approx(value) if isinstance(value, float) else value), key


def test_span_pairs_have_sentence_gold_for_retrieval() -> None:
    rec = record("1,230 km [1].", [cite(1)]) | {"retrieved": [f"{FILE}#2", f"{FILE}#1"]}
    got = score_record(LENGTH, rec, Sources({FILE: TEXT}, MAX_CHARS))
    assert got["gold_ids"] == [f"{FILE}#1"]
    assert got["rr"] == 0.5 and got["recall@5"] == 1.0


def test_summary_of_hand_computed_records() -> None:
    src = Sources({FILE: TEXT}, MAX_CHARS)
    recs = [r for _, r, _ in CASES]
    for pair, r, _ in CASES:
        r["metrics"] = score_record(pair, r, src)
    s = summarize(recs)
    # answerable: EM 1,0,0,1,0 → 2/5; F1 1, 4/7, 0.8, 1, 0 → 3.3714/5; contains 1,1,1,1,0; span 1,1,0,0,0
    assert s["exact_match"] == pytest.approx(2 / 5)
    assert s["short_answer_f1"] == pytest.approx((1 + 4 / 7 + 0.8 + 1 + 0) / 5)
    assert s["contains_gold"] == pytest.approx(4 / 5)
    assert s["cited_gold_span"] == pytest.approx(2 / 5)
    assert s["fooled_by_plausible"] == pytest.approx(1 / 3)  # fooled, refused, "Basel"
    # answered records' words: 2, 6, 3, 2, 6, 1 → sorted 1 2 2 3 6 6 → median (2 + 3) / 2
    assert s["answer_words_p50"] == 2.5
    assert "standin_correct_kept" not in s


def test_shipped_style_pairs_use_their_answer_groups() -> None:
    one = Pair("one", "Which city?", answers=("Basel|Basle",), evidence=(Evidence(FILE, "Basel lies"),))
    two = Pair(
        "two", "Which river and city?", answers=("Rhine", "Basel"), evidence=(Evidence(FILE, "Basel"),)
    )
    src = Sources({FILE: TEXT}, MAX_CHARS)
    got = score_record(one, record("Basle [1].", [cite(3)]), src)
    assert (got["exact_match"], got["short_answer_f1"], got["contains_gold"]) == (True, 1.0, True)
    assert got["cited_gold_span"] is None  # no spans: span coverage is not measured
    assert got["correct"] is True and got["evidence_hit"] is True
    got = score_record(two, record("Basel lies on the Rhine [1].", [cite(3)]), src)
    assert got["exact_match"] is None and got["short_answer_f1"] is None  # several groups: no one gold
    assert got["contains_gold"] is True and got["correct"] is True
    got = score_record(two, record("Basel [1].", [cite(3)]), src)
    assert got["contains_gold"] is False and got["correct"] is False
