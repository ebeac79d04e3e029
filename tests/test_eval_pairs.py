"""The shipped pairs: their evidence really is in the articles, as sentences the index knows."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from index.build import evidence_sentences
from index.errors import InputError
from qa.eval.metrics import groups_match
from qa.eval.pairs import Pair, load_pairs, parse_pairs
from tests.helpers import MAX_CHARS

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="module")
def pairs() -> list[Pair]:
    return load_pairs()


@pytest.fixture(scope="module")
def kept() -> dict[str, list[str]]:
    """Citable sentence texts of each seed article, as the indexer keeps them."""
    out = {}
    for path in sorted(SEEDS.glob("*.txt")):
        sentences, _ = evidence_sentences(path.name, path.read_text(encoding="utf-8"), MAX_CHARS)
        out[path.name] = [s.text for s in sentences]
    return out


def test_every_evidence_entry_is_in_a_kept_sentence_of_its_file(
    pairs: list[Pair], kept: dict[str, list[str]]
) -> None:
    missing = [
        f"{p.id}: {ev.file}: {ev.contains!r}"
        for p in pairs
        for ev in p.evidence
        if not any(ev.contains in text for text in kept.get(ev.file, []))
    ]
    assert not missing, "evidence not found in any citable sentence:\n" + "\n".join(missing)


def test_every_answer_group_is_grounded_in_the_gold_sentences(
    pairs: list[Pair], kept: dict[str, list[str]]
) -> None:
    """Each acceptable-answer group matches the pair's own evidence sentences (catches typos in answers)."""
    bad = []
    for p in pairs:
        gold = " ".join(t for ev in p.evidence for t in kept.get(ev.file, []) if ev.contains in t)
        bad += [f"{p.id}: {g!r}" for g in p.groups() if not groups_match([g], gold)]
    assert not bad, "\n".join(bad)


def test_the_set_covers_what_the_evaluation_needs(pairs: list[Pair]) -> None:
    answerable = [p for p in pairs if p.answerable]
    unanswerable = [p for p in pairs if not p.answerable]
    multi = [p for p in answerable if len({ev.file for ev in p.evidence}) >= 2]
    disagreement = [p for p in pairs if "disagreement" in p.tags]
    assert len(pairs) >= 40
    assert len(unanswerable) >= 6
    assert len(multi) >= 5
    assert sum("paraphrase" in p.tags for p in pairs) >= 10
    assert len(disagreement) == 1
    # the figure the articles disagree on: "1 kilometer", "(0.6 mile)", "one kilometer", "(6 miles)"
    assert len({ev.file for ev in disagreement[0].evidence}) >= 4
    assert {"(0.6 mile)", "(6 miles)"} <= {
        fig for ev in disagreement[0].evidence for fig in ("(0.6 mile)", "(6 miles)") if fig in ev.contains
    }
    assert all(ev.file in {p.name for p in SEEDS.glob("*.txt")} for p in pairs for ev in p.evidence)
    assert len({p.id for p in pairs}) == len(pairs)


def test_json_pairs_load_the_same(pairs: list[Pair], tmp_path: Path) -> None:
    raw: list[dict[str, Any]] = []
    for p in pairs:
        d = asdict(p)
        d["answers"], d["tags"] = list(p.answers), list(p.tags)
        d["evidence"] = [asdict(ev) for ev in p.evidence]
        raw.append(d)
    path = tmp_path / "pairs.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    assert load_pairs(path) == pairs


def test_answerable_defaults_to_true(tmp_path: Path) -> None:
    got = parse_pairs(
        [{"id": "a", "question": "Q?", "answers": ["x"], "evidence": [{"file": "f", "contains": "x"}]}],
        tmp_path / "p.yaml",
    )
    assert got[0].answerable is True and got[0].tags == ()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "non-empty list"),
        ({"id": "a"}, "non-empty list"),
        (["a"], "mapping"),
        ([{"question": "Q?"}], "`id`"),
        ([{"id": "a", "question": ""}], "`question`"),
        (
            [{"id": "a", "question": "Q?", "answers": ["x"], "evidence": [{"file": "f", "contains": "x"}]}]
            * 2,
            "duplicate",
        ),
        ([{"id": "a", "question": "Q?", "evidence": [{"file": "f", "contains": "x"}]}], "acceptable-answer"),
        ([{"id": "a", "question": "Q?", "answers": ["x"]}], "evidence entry"),
        ([{"id": "a", "question": "Q?", "answers": ["x"], "evidence": [{"file": "f"}]}], "`contains`"),
        ([{"id": "a", "question": "Q?", "answers": ["x"], "answerable": False}], "no answers"),
        ([{"id": "a", "question": "Q?", "answers": "x", "evidence": []}], "list of non-empty strings"),
        ([{"id": "a", "question": "Q?", "answerable": "no"}], "true or false"),
    ],
)
def test_bad_pairs_are_rejected_with_a_reason(raw: Any, message: str, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=message):
        parse_pairs(raw, tmp_path / "p.yaml")


def test_a_refusal_names_the_file_the_item_and_what_to_do(tmp_path: Path) -> None:
    ok = {"id": "a", "question": "Q?", "answers": ["x"], "evidence": [{"file": "f", "contains": "x"}]}
    path = tmp_path / "pairs.yaml"
    fix = "Fix the pairs file (its format is described in pairs.yaml)."
    cases = [
        (
            [ok, ok | {"id": "b", "answerable": False}],
            f"{path} item 2 ('b'): an unanswerable pair (`answerable: false`) must have no answers. {fix}",
        ),
        ([ok, {"question": "Q?"}], f"{path} item 2: `id` must be a non-empty string. {fix}"),
        ([ok, ok], f"{path} item 2 ('a'): duplicate id. {fix}"),
        ({"pairs": [ok]}, f"{path}: expected a non-empty list of pairs. {fix}"),
    ]
    for raw, message in cases:
        with pytest.raises(InputError) as e:
            parse_pairs(raw, path)
        assert str(e.value) == message


def test_empty_lists_may_be_left_blank_in_yaml(tmp_path: Path) -> None:
    path = tmp_path / "pairs.yaml"
    path.write_text("- id: a\n  question: Who won?\n  answerable: false\n  answers:\n  tags:\n", "utf-8")
    (got,) = load_pairs(path)
    assert (got.id, got.answerable, got.answers, got.evidence, got.tags) == ("a", False, (), (), ())


def test_unreadable_or_malformed_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Cannot read"):
        load_pairs(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.json"
    bad.write_text("[{", encoding="utf-8")
    with pytest.raises(InputError, match="not valid JSON"):
        load_pairs(bad)
