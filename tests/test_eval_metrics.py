"""qa/eval/metrics.py, table-tested with hand-made records over a tiny hand-made corpus."""

from __future__ import annotations

from typing import Any

import pytest

from index.settings import IndexSettings
from qa.eval.citations import Sources, dangling_markers, evidence_hit, invalid_reason, score_claims
from qa.eval.metrics import (
    check_floors,
    gold_ids,
    groups_match,
    latency,
    percentile,
    recall_at_k,
    reciprocal_rank,
    score_record,
    summarize,
)
from qa.eval.pairs import Evidence, Pair

MAX_CHARS = IndexSettings().max_sentence_chars

A = "a.txt"
B = "b.txt"
TEXTS = {
    # sentences: 1 "The Taliban…", 2 "Police said…", 3 "Share This" (boilerplate), 4 "Talks in Qatar…"
    A: "The Taliban took Imam Sahib on Monday. Police said 50 fighters were killed.\nShare This\n"
    "Talks in Qatar have stalled.\n",
    B: "The Taliban took Doshi.\nBiden will meet Ghani on Friday.\n",
}
S1 = "The Taliban took Imam Sahib on Monday."
S2 = "Police said 50 fighters were killed."
S4 = "Talks in Qatar have stalled."
DOSHI = "The Taliban took Doshi."


@pytest.fixture(scope="module")
def src() -> Sources:
    return Sources(TEXTS, MAX_CHARS)


def cite(of: str, n: int, **override: Any) -> dict[str, Any]:
    """A citation of sentence n of file `of`, exactly as a correct pipeline would produce it; then
    `override` changes fields."""
    s = Sources(TEXTS, MAX_CHARS).sentence(of, n)
    assert s is not None
    c: dict[str, Any] = {
        "id": s.id,
        "file": of,
        "sentence": n,
        "quote": s.text,
        "start": s.start,
        "end": s.end,
    }
    c.update(override)
    return c


# ---- answers --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("group", "text", "ok"),
    [
        ("Imam Sahib", "The Taliban took Imam Sahib [1].", True),
        ("imam sahib", "IMAM   SAHIB", True),
        ("Sahib", "Sahibs", False),  # word-bounded
        ("1 kilometer|a kilometre", "within a kilometre (6 miles) of Kunduz", True),
        ("kilometer", "about 120 kilometers west", False),
        ("2,500", "the remaining 2,500 to 3,500 US troops", True),
        ("2500", "the remaining 2,500 troops", False),  # alternatives must list other spellings
        ("June 20", "late on June 20th", False),
        ("June 20|June 20th", "late on June 20th", True),
        ("wasn't clear", "it still wasn’t clear", True),  # curly apostrophe normalised
        ("Dasht-e-Archi", "Dasht–e–Archi", True),  # en dashes normalised
        ("not", "nothing is known", False),
        ("Qatar", "talks in Qatar.", True),
        ("Qatar", "", False),
        (" | Qatar | ", "Qatar", True),  # blank alternatives ignored
    ],
)
def test_one_group_matches(group: str, text: str, ok: bool) -> None:
    """One group, its alternatives `|`-separated as a pair writes them (Pair.groups splits them)."""
    assert groups_match([group.split("|")], text) is ok


@pytest.mark.parametrize(
    ("groups", "text", "ok"),
    [
        ([["Kunduz"], ["Baghlan"], ["Balkh"]], "Kunduz, Baghlan and Balkh [1].", True),
        ([["Kunduz"], ["Baghlan"], ["Balkh"]], "Kunduz and Balkh [1].", False),  # every group must match
        ([["police"], ["army", "soldiers"]], "police and soldiers", True),
        ([["police"], ["army", "soldiers"]], "soldiers", False),
        ([["police"], ["", "army"]], "police and army", True),  # blank alternatives ignored
        ([], "anything", False),
    ],
)
def test_groups_match(groups: list[list[str]], text: str, ok: bool) -> None:
    assert groups_match(groups, text) is ok


# ---- citation validity ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("citation", "reason"),
    [
        (cite(A, 1), None),
        (cite(A, 4), None),
        (cite(B, 2), None),
        (cite(A, 1, quote="The Taliban took Imam Sahib on Sunday."), "quote differs"),
        (cite(A, 1, quote=S1 + " " + S2, end=75), "is not sentence 1"),  # a two-sentence chunk
        (cite(A, 2, start=0, end=38, quote=S1), "is not sentence 2"),  # right text, wrong number
        (cite(A, 1, id="a.txt#2"), "id 'a.txt#2' is not 'a.txt#1'"),
        (cite(A, 1, file="c.txt"), "not in the corpus"),
        (cite(A, 1, start=100, end=500), "outside the file"),
        (cite(A, 1, start=-1, end=-1), "outside the file"),
        (cite(A, 3), "boilerplate"),
        (cite(A, 1, sentence=9, id="a.txt#9"), "no sentence 9"),
        ({"id": "a.txt#1", "file": A, "quote": S1}, "missing"),
    ],
)
def test_invalid_reason(citation: dict[str, Any], reason: str | None, src: Sources) -> None:
    got = invalid_reason(citation, src)
    if reason is None:
        assert got is None
    else:
        assert got is not None and reason in got


@pytest.mark.parametrize(
    ("answer", "n", "dangling"),
    [
        ("x [1].", 1, []),
        ("x [1][2]. y [2, 3].", 2, [3]),
        ("x [0].", 3, [0]),
        ("no markers", 0, []),
        ("x [4]. y [4].", 1, [4]),  # counted once
    ],
)
def test_dangling_markers(answer: str, n: int, dangling: list[int]) -> None:
    assert dangling_markers(answer, n) == dangling


# ---- citation support and precision (ALCE) --------------------------------------------------------------
@pytest.mark.parametrize(
    ("answer", "quotes", "expected"),
    [
        # one claim, one supporting citation
        ("The Taliban took Imam Sahib on Monday [1].", [S1], [(True, (True,))]),
        # no marker: unsupported (ALCE recall needs a citation)
        ("The Taliban took Imam Sahib on Monday.", [S1], [(False, ())]),
        # marker past the citations: cites nothing
        ("The Taliban took Imam Sahib on Monday [3].", [S1], [(False, (False,))]),
        # cited sentence does not hold the fact
        ("The Taliban took Imam Sahib on Monday [1].", [S4], [(False, (False,))]),
        # second citation irrelevant: alone it does not support, and the first does without it
        ("The Taliban took Imam Sahib on Monday [1][2].", [S1, S4], [(True, (True, False))]),
        # both needed: neither alone supports, and neither is redundant
        ("The Taliban took Imam Sahib and Doshi [1][2].", [S1, DOSHI], [(True, (True, True))]),
        # two supporting citations: both relevant
        ("The Taliban took Imam Sahib on Monday [1][2].", [S1, S1], [(True, (True, True))]),
        # unsupported claim: every citation of it is imprecise (ALCE's evaluation code)
        ("The Taliban took Kabul and Doshi [1][2].", [S1, DOSHI], [(False, (False, False))]),
        # two claims, scored separately
        (
            "The Taliban took Doshi [2]. Talks in Qatar have stalled [1].",
            [S4, DOSHI],
            [(True, (True,)), (True, (True,))],
        ),
        ("", [S1], []),
    ],
)
def test_score_claims(answer: str, quotes: list[str], expected: list[tuple[bool, tuple[bool, ...]]]) -> None:
    got = score_claims(answer, quotes)
    assert [(c.supported, c.precise) for c in got] == expected


# ---- evidence and retrieval -----------------------------------------------------------------------------
def test_gold_ids_skip_boilerplate_and_repeat(src: Sources) -> None:
    ev = [Evidence(A, "Taliban"), Evidence(B, "Taliban"), Evidence(A, "Share"), Evidence(A, "Imam Sahib")]
    assert gold_ids(ev, src) == ["a.txt#1", "b.txt#1"]
    assert gold_ids([Evidence("missing.txt", "x")], src) == []


@pytest.mark.parametrize(
    ("citations", "evidence", "hit"),
    [
        ([cite(A, 1)], [Evidence(A, "Imam Sahib")], True),
        ([cite(A, 1)], [Evidence(B, "Imam Sahib")], False),  # right words, wrong file
        ([cite(A, 2)], [Evidence(A, "Imam Sahib")], False),
        ([cite(A, 2), cite(B, 1)], [Evidence(A, "Imam Sahib"), Evidence(B, "Doshi")], True),
        ([], [Evidence(A, "Imam Sahib")], False),
    ],
)
def test_evidence_hit(citations: list[dict[str, Any]], evidence: list[Evidence], hit: bool) -> None:
    assert evidence_hit(citations, evidence) is hit


@pytest.mark.parametrize(
    ("retrieved", "gold", "k", "recall", "rr"),
    [
        (["x", "g1", "g2"], ["g1", "g2"], 2, 0.5, 0.5),
        (["x", "g1", "g2"], ["g1", "g2"], 3, 1.0, 0.5),
        (["g2", "x"], ["g1", "g2"], 5, 0.5, 1.0),
        (["x", "y"], ["g1"], 5, 0.0, 0.0),
        ([], ["g1"], 5, 0.0, 0.0),
        (["x"], [], 5, None, None),
    ],
)
def test_recall_and_rr(
    retrieved: list[str], gold: list[str], k: int, recall: float | None, rr: float | None
) -> None:
    assert recall_at_k(retrieved, gold, k) == recall
    assert reciprocal_rank(retrieved, gold) == rr


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1.0], 50, 1.0),
        ([1.0, 3.0], 50, 2.0),
        ([4.0, 1.0, 3.0, 2.0], 50, 2.5),
        ([float(x) for x in range(1, 101)], 95, 95.05),
        ([1.0, 2.0, 3.0], 100, 3.0),
        ([], 50, None),
    ],
)
def test_percentile(values: list[float], q: float, expected: float | None) -> None:
    got = percentile(values, q)
    assert got == pytest.approx(expected) if expected is not None else got is None


def test_latency_orders_known_stages_first() -> None:
    lat = latency(
        [{"total_ms": 10.0, "zeta_ms": 1.0, "retrieve_ms": 2.0, "completion_tokens": 5.0}, {"total_ms": 30.0}]
    )
    assert list(lat) == ["retrieve_ms", "total_ms", "zeta_ms"]
    assert lat["total_ms"]["p50"] == 20.0 and lat["total_ms"]["n"] == 2


# ---- per pair and summary -------------------------------------------------------------------------------
IMAM = Pair("imam", "Which district?", ("Imam Sahib",), (Evidence(A, "Imam Sahib"),))
DOSHI_PAIR = Pair("doshi", "Which Baghlan district?", ("Doshi",), (Evidence(B, "Doshi"),))
GOVERNOR = Pair("gov", "Who is the governor?", (), (), answerable=False)


def rec(
    answer: str = "",
    refused: bool = False,
    citations: list[dict[str, Any]] | None = None,
    retrieved: list[str] | None = None,
    total_ms: float = 100.0,
    error: str | None = None,
) -> dict[str, Any]:
    return {
        "answer": answer,
        "refused": refused,
        "citations": citations or [],
        "retrieved": retrieved or [],
        "timings": {"total_ms": total_ms},
        "error": error,
    }


def test_score_record_correct_answer(src: Sources) -> None:
    m = score_record(
        IMAM,
        rec(
            "The Taliban took Imam Sahib on Monday [1].",
            citations=[cite(A, 1)],
            retrieved=["a.txt#2", "a.txt#1"],
        ),
        src,
    )
    assert m["correct"] is True
    assert (m["citations"], m["citations_valid"], m["invalid_citations"]) == (1, 1, [])
    assert (m["claims"], m["claims_supported"], m["citation_support"], m["citation_precision"]) == (
        1,
        1,
        1.0,
        1.0,
    )
    assert m["evidence_hit"] is True
    assert m["gold_ids"] == ["a.txt#1"]
    assert (m["recall@5"], m["rr"]) == (1.0, 0.5)


def test_score_record_chunk_citation_is_invalid_but_scored_as_cited(src: Sources) -> None:
    chunk = cite(A, 1, quote=S1 + " " + S2, end=75)
    m = score_record(
        IMAM, rec("The Taliban took Imam Sahib on Monday [1]. More [2].", citations=[chunk]), src
    )
    assert m["correct"] is True
    assert (m["citations"], m["citations_valid"]) == (2, 0)  # the chunk, and the dangling [2]
    assert any("is not sentence 1" in r for r in m["invalid_citations"])
    assert any(r.startswith("[2]") for r in m["invalid_citations"])
    assert m["evidence_hit"] is True  # the chunk text holds the evidence


@pytest.mark.parametrize(
    ("pair", "record", "expected"),
    [
        # answerable but refused: wrong, and no citation metrics
        (
            IMAM,
            rec("I cannot answer that.", refused=True),
            {
                "correct": False,
                "refused": True,
                "citation_support": None,
                "citation_precision": None,
                "evidence_hit": None,
                "claims": 0,
            },
        ),
        # unanswerable, refused: nothing to be correct about
        (
            GOVERNOR,
            rec("I cannot answer that.", refused=True),
            {"correct": None, "refused": True, "evidence_hit": None, "recall@5": None, "rr": None},
        ),
        # unanswerable but answered: citation metrics still apply
        (
            GOVERNOR,
            rec("The Taliban took Doshi [1].", citations=[cite(B, 1)]),
            {"correct": None, "refused": False, "citation_support": 1.0, "evidence_hit": None},
        ),
        # an error: wrong, no claims
        (IMAM, rec(error="BackendError: down"), {"correct": False, "error": True, "claims": 0}),
        # answered without any marker: unsupported, precision 0 (ALCE: no citations → 0)
        (IMAM, rec("Imam Sahib."), {"correct": True, "citation_support": 0.0, "citation_precision": 0.0}),
    ],
)
def test_score_record_cases(
    pair: Pair, record: dict[str, Any], expected: dict[str, Any], src: Sources
) -> None:
    m = score_record(pair, record, src)
    for key, value in expected.items():
        assert m[key] == value, key


def test_summarize_pools_validity_and_averages_the_rest(src: Sources) -> None:
    pairs_records = [
        (
            IMAM,
            rec(
                "The Taliban took Imam Sahib on Monday [1].",
                citations=[cite(A, 1)],
                retrieved=["a.txt#1"],
                total_ms=100.0,
            ),
        ),
        (DOSHI_PAIR, rec("I cannot answer that.", refused=True, retrieved=["x", "b.txt#1"], total_ms=300.0)),
        (GOVERNOR, rec("I cannot answer that.", refused=True, total_ms=200.0)),
        (
            GOVERNOR,
            rec(
                "Police said 50 fighters were killed [1][2].",
                citations=[cite(A, 2), cite(A, 3)],
                total_ms=400.0,
            ),
        ),
    ]
    records = [{**r, "metrics": score_record(p, r, src)} for p, r in pairs_records]
    s = summarize(records)
    assert (s["pairs"], s["answerable"], s["unanswerable"], s["errors"]) == (4, 2, 2, 0)
    assert s["answer_accuracy"] == 0.5
    assert s["citations"] == 3 and s["citation_validity"] == pytest.approx(2 / 3)  # a.txt#3 is boilerplate
    assert s["citation_support"] == 1.0  # both answered records are supported
    assert s["citation_precision"] == pytest.approx((1.0 + 0.5) / 2)  # [2] is redundant in the last
    assert s["evidence_hit"] == 1.0  # only the answered answerable pair counts
    assert s["recall@5"] == 1.0 and s["mrr"] == pytest.approx((1.0 + 0.5) / 2)
    assert (s["true_refusal"], s["false_refusal"], s["refusal_accuracy"]) == (0.5, 0.5, 0.5)
    assert s["latency"]["total_ms"]["p50"] == 250.0


@pytest.mark.parametrize(
    ("summary", "floors", "failed"),
    [
        ({"answer_accuracy": 0.5}, {"answer_accuracy": 0.5}, []),
        ({"answer_accuracy": 0.49}, {"answer_accuracy": 0.5}, ["answer_accuracy"]),
        ({"false_refusal": 0.3}, {"max_false_refusal": 0.4}, []),
        ({"false_refusal": 0.5}, {"max_false_refusal": 0.4}, ["false_refusal"]),
        ({"citation_validity": None}, {"citation_validity": 1.0}, ["citation_validity"]),
        ({}, {"mrr": 0.1}, ["mrr"]),
    ],
)
def test_check_floors(summary: dict[str, Any], floors: dict[str, float], failed: list[str]) -> None:
    got = check_floors(summary, floors)
    assert [line.split(":")[0] for line in got] == failed
