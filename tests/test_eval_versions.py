"""qa/eval/versions.py: conflict_surfaced and false_conflict on hand-written records."""

from __future__ import annotations

from typing import Any

from qa.eval.pairs import Pair, PairVersion
from qa.eval.versions import conflict_metrics

TWO = Pair(
    "cf",
    "How many residents left?",
    versions=(
        PairVersion("260", ("260",), ("a.txt", "b.txt")),
        PairVersion("620", ("620", "Some 620"), ("c.txt",)),
    ),
)
ONE = Pair("ag", "How many fuses?", versions=(PairVersion("two", ("two", "a pair"), ("a.txt", "b.txt")),))
NONE = Pair("seed", "Who confirmed it?", answers=("Mujahed",))


def cit(file: str) -> dict[str, Any]:
    return {"id": f"{file}#1", "file": file, "sentence": 1, "quote": "…", "start": 0, "end": 1}


def record(conflicts: list[dict[str, Any]], files: list[str], refused: bool = False) -> dict[str, Any]:
    return {"answer": "…", "refused": refused, "citations": [cit(f) for f in files], "conflicts": conflicts}


def test_every_version_shown_and_cited_from_a_file_that_carries_it() -> None:
    rec = record(
        [
            {"value": "260", "citations": [1, 2], "files": 2},
            {"value": "some 620", "citations": [3], "files": 1},
        ],
        ["a.txt", "b.txt", "c.txt"],
    )
    assert conflict_metrics(TWO, rec) == {"conflict_surfaced": True, "false_conflict": None}


def test_a_version_cited_only_from_a_file_of_the_other_is_not_surfaced() -> None:
    rec = record(
        [{"value": "260", "citations": [1], "files": 1}, {"value": "620", "citations": [2], "files": 1}],
        ["a.txt", "b.txt"],  # 620 is cited from b.txt, which says 260
    )
    assert conflict_metrics(TWO, rec)["conflict_surfaced"] is False


def test_one_version_shown_or_a_refusal_surfaces_nothing() -> None:
    only = record([], ["a.txt"])
    assert conflict_metrics(TWO, only)["conflict_surfaced"] is False
    refused = record(
        [{"value": "260", "citations": [1], "files": 1}, {"value": "620", "citations": [2], "files": 1}],
        ["a.txt", "c.txt"],
        refused=True,
    )
    assert conflict_metrics(TWO, refused)["conflict_surfaced"] is False


def test_conflicts_on_a_question_the_sources_agree_on_are_false() -> None:
    two = [{"value": "two", "citations": [1], "files": 1}, {"value": "a pair", "citations": [2], "files": 1}]
    assert conflict_metrics(ONE, record(two, ["a.txt", "b.txt"])) == {
        "conflict_surfaced": None,
        "false_conflict": True,
    }
    assert conflict_metrics(NONE, record(two, ["a.txt", "b.txt"]))["false_conflict"] is True
    assert conflict_metrics(NONE, record([], ["a.txt"]))["false_conflict"] is False
    disputed = Pair("seed", "How close?", answers=("1 km",), tags=("disagreement",))
    assert conflict_metrics(disputed, record(two, ["a.txt", "b.txt"]))["false_conflict"] is None


def test_the_conflict_set_loads_its_versions() -> None:
    from qa.eval.pairs import load_pairs
    from qa.eval.run import SETS_DIR

    pairs = {p.id: p for p in load_pairs(SETS_DIR / "news-conflict" / "questions.json")}
    assert len(pairs) == 16
    assert sum(len(p.versions) >= 2 for p in pairs.values()) == 11
    assert pairs["cf-05"].versions[1] == PairVersion("620", ("620",), ("c09d.txt", "f96c.txt"))
