"""The SQuAD-style evaluation sets under qa/eval/sets: loading, validation, spans, stratified samples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from index.errors import InputError
from qa.eval.pairs import check_spans, is_squad_style, load_pairs, parse_squad, sample
from qa.eval.run import SETS_DIR, eval_settings, index_key, parse_pipelines

SETS = sorted(p for p in SETS_DIR.iterdir() if (p / "questions.json").is_file())
ITEM: dict[str, Any] = {
    "id": "q1",
    "file": "a.txt",
    "q": "How long is it?",
    "unanswerable": False,
    "answers": ["12 km"],
    "spans": [[3, 8]],
}


def texts(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text("utf-8") for p in (folder / "corpus").glob("*.txt")}


@pytest.mark.parametrize(
    ("name", "total", "answerable"), [("squad2-rhine", 498, 290), ("squad2-complexity", 418, 197)]
)
def test_squad_sets_are_shipped_with_attribution(name: str, total: int, answerable: int) -> None:
    folder = SETS_DIR / name
    pairs = load_pairs(folder / "questions.json")
    assert (len(pairs), sum(p.answerable for p in pairs)) == (total, answerable)
    note = (folder / "ATTRIBUTION.md").read_text("utf-8")
    assert "SQuAD 2.0" in note and "Rajpurkar" in note and "CC BY-SA 4.0" in note


@pytest.mark.parametrize("folder", SETS, ids=[p.name for p in SETS])
def test_every_set_loads_and_its_spans_are_its_answers(folder: Path) -> None:
    pairs = load_pairs(folder / "questions.json")
    assert pairs and all(p.file for p in pairs)
    assert check_spans(pairs, texts(folder)) == []
    for p in pairs:
        assert bool(p.gold) == p.answerable and bool(p.spans) == p.answerable


def test_questions_json_is_recognised_by_its_keys(tmp_path: Path) -> None:
    assert is_squad_style([ITEM])
    assert not is_squad_style([{"id": "x", "question": "?", "answers": ["a"]}])
    path = tmp_path / "questions.json"
    path.write_text(json.dumps([ITEM, ITEM | {"id": "q2", "unanswerable": True, "answers": [], "spans": []}]))
    one, two = load_pairs(path)
    assert (one.gold, one.spans, one.answerable, one.groups()) == (("12 km",), ((3, 8),), True, [["12 km"]])
    assert (two.answerable, two.gold, two.plausible) == (False, (), ())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"spans": []}, "needs `answers` and their `spans`"),
        ({"unanswerable": True}, "must have empty `answers` and `spans`"),
        ({"spans": [[8, 3]]}, "[start, end) pairs"),
        ({"q": " "}, "`q` must be a non-empty string"),
        ({"unanswerable": "no"}, "true or false"),
        ({"plausible_spans": [[0, 1]]}, "`plausible_spans` without `plausible`"),
    ],
)
def test_bad_questions_are_refused_with_the_reason(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=r"^questions\.json item 1 \('q1'\): ") as e:
        parse_squad([ITEM | change], Path("questions.json"))
    assert message in str(e.value)


def test_duplicate_ids_and_wrong_spans_are_reported() -> None:
    with pytest.raises(InputError, match="duplicate id"):
        parse_squad([ITEM, ITEM], Path("questions.json"))
    pairs = parse_squad([ITEM], Path("questions.json"))
    assert check_spans(pairs, {"a.txt": "It 12 km long"}) == []
    assert check_spans(pairs, {"a.txt": "It is 12 km long"}) == [
        "q1: span [3, 8) of a.txt is 'is 12', not an answer"
    ]
    assert check_spans(pairs, {}) == ["q1: file 'a.txt' is not in the corpus"]


def test_sample_is_stratified_reproducible_and_nested() -> None:
    pairs = load_pairs(SETS_DIR / "squad2-rhine" / "questions.json")
    s60 = sample(pairs, 60, seed=1)
    # 290 of 498 answerable: 60 · 290 / 498 = 34.94 → 35 answerable, 25 unanswerable
    assert (len(s60), sum(p.answerable for p in s60)) == (60, 35)
    assert [p.id for p in sample(pairs, 60, seed=1)] == [p.id for p in s60]
    assert {p.id for p in sample(pairs, 60, seed=2)} != {p.id for p in s60}
    s20 = sample(pairs, 20, seed=1)  # 20 · 290 / 498 = 11.65 → 12 answerable
    assert sum(p.answerable for p in s20) == 12
    assert {p.id for p in s20} <= {p.id for p in s60}  # a smaller sample is part of the larger
    order = {p.id: i for i, p in enumerate(pairs)}
    assert [order[p.id] for p in s60] == sorted(order[p.id] for p in s60)  # file order kept
    assert len(sample(pairs, 2, seed=1)) == 2 and {p.answerable for p in sample(pairs, 2, seed=1)} == {
        True,
        False,
    }
    assert sample(pairs, None) == pairs and sample(pairs, 10_000) == pairs
    with pytest.raises(InputError):
        sample(pairs, 0)


def test_each_corpus_has_its_own_eval_index(tmp_path: Path) -> None:
    from qa.settings import Settings

    base = Settings(data_dir=tmp_path)
    dirs = {
        eval_settings(base.replaced(corpus_dir=SETS_DIR / name / "corpus")).index.data_dir
        for name in ("squad2-rhine", "squad2-complexity")
    }
    dirs.add(eval_settings(base).index.data_dir)
    assert len(dirs) == 3 and all(d.parent == tmp_path / "eval" for d in dirs)
    assert index_key(SETS_DIR / "squad2-rhine" / "corpus").startswith("squad2-rhine-corpus-")


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("ours", ["ours"]),
        ("both", ["ours", "baseline"]),
        ("ours,extractive,baseline", ["ours", "extractive", "baseline"]),
        ("all", ["ours", "standin", "extractive", "baseline"]),
        ("extractive, ours,extractive", ["extractive", "ours"]),
    ],
)
def test_parse_pipelines(text: str, names: list[str]) -> None:
    assert parse_pipelines(text) == names


def test_unknown_pipeline_is_refused() -> None:
    with pytest.raises(InputError, match="'llama' is not one of ours, standin, extractive, baseline"):
        parse_pipelines("ours,llama")
