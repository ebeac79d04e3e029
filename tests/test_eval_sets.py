"""The evaluation sets under qa/eval/sets/*: every span, file and version in them holds.

Data checks only: nothing here runs the pipeline.
"""

from __future__ import annotations

import importlib.util
import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest

SETS_DIR = Path(__file__).resolve().parent.parent / "qa" / "eval" / "sets"
SET_DIRS = sorted(p.parent for p in SETS_DIR.glob("*/questions.json"))
VERSIONED = {"news-conflict", "news-conflict2", "news-agree"}
# Written for this project; the rest are imported.
OURS = {"news-multisource", "news-conflict", "news-conflict2", "news-agree"}

Loaded = tuple[str, list[dict[str, Any]], dict[str, str]]


def _load(set_dir: Path) -> tuple[list[dict[str, Any]], dict[str, str]]:
    questions = json.loads((set_dir / "questions.json").read_text(encoding="utf-8"))
    corpus = {p.name: p.read_text(encoding="utf-8") for p in sorted((set_dir / "corpus").glob("*.txt"))}
    return questions, corpus


def _check_spans(text: str, spans: list[list[int]], allowed: list[str], where: str) -> None:
    assert spans, f"{where}: no spans"
    for span in spans:
        assert len(span) == 2, f"{where}: span {span} is not [start, end)"
        start, end = span
        assert 0 <= start < end <= len(text), f"{where}: span {span} outside the file"
        got = text[start:end]
        assert got in allowed, f"{where}: {span} slices to {got!r}, not one of {allowed}"


@pytest.fixture(scope="module", params=[p.name for p in SET_DIRS])
def loaded(request: pytest.FixtureRequest) -> Loaded:
    questions, corpus = _load(SETS_DIR / request.param)
    return request.param, questions, corpus


def test_the_sets_exist() -> None:
    assert {p.name for p in SET_DIRS} >= OURS


def test_corpus_and_readme(loaded: Loaded) -> None:
    name, _, corpus = loaded
    docs = ("README.md", "ATTRIBUTION.md")
    assert any((SETS_DIR / name / doc).is_file() for doc in docs), f"{name}: no README"
    assert corpus, f"{name}: empty corpus"
    if name in OURS:
        assert (SETS_DIR / name / "README.md").is_file()
        assert len(corpus) >= 5, f"{name}: expected at least 5 articles"
    for fname, text in corpus.items():
        # NFC, so that an accented name has one spelling and offsets do not depend on normalisation
        assert unicodedata.normalize("NFC", text) == text, f"{name}/{fname} is not NFC"
        assert text.strip(), f"{name}/{fname} is empty"


def test_ids_unique(loaded: Loaded) -> None:
    name, questions, _ = loaded
    ids = [q["id"] for q in questions]
    assert len(ids) == len(set(ids)), f"{name}: duplicate ids"


def test_ids_unique_across_sets() -> None:
    ids = [q["id"] for d in SET_DIRS for q in _load(d)[0]]
    assert len(ids) == len(set(ids))


def test_answer_spans(loaded: Loaded) -> None:
    name, questions, corpus = loaded
    for q in questions:
        where = f"{name}/{q['id']}"
        assert {"id", "file", "q", "unanswerable", "answers", "spans"} <= q.keys(), where
        assert q["q"].strip(), where
        if name in OURS:
            assert q["q"].strip().endswith("?"), where
        assert q["file"] in corpus, f"{where}: {q['file']} is not in the corpus"
        if q["unanswerable"]:
            assert q["answers"] == [] and q["spans"] == [], f"{where}: unanswerable with answers"
            assert "versions" not in q, where
            continue
        assert q["answers"] and all(isinstance(a, str) and a for a in q["answers"]), where
        _check_spans(corpus[q["file"]], q["spans"], q["answers"], where)
        if "all_spans" in q or "files" in q:
            assert q["files"] == sorted(q["all_spans"]), f"{where}: files and all_spans disagree"
            assert q["file"] == q["files"][0] or "versions" in q, f"{where}: file is not the first of files"
            assert q["all_spans"][q["file"]] == q["spans"], where
            for fname, spans in q["all_spans"].items():
                assert fname in corpus, f"{where}: {fname} is not in the corpus"
                _check_spans(corpus[fname], spans, q["answers"], f"{where} in {fname}")


def test_plausible_spans(loaded: Loaded) -> None:
    name, questions, corpus = loaded
    for q in (q for q in questions if q["unanswerable"]):
        where = f"{name}/{q['id']}"
        assert q["plausible"], f"{where}: unanswerable without a plausible answer"
        _check_spans(corpus[q["file"]], q["plausible_spans"], q["plausible"], where)
        for fname, spans in q.get("plausible_all_spans", {}).items():
            assert fname in corpus, where
            _check_spans(corpus[fname], spans, q["plausible"], f"{where} in {fname}")
        if "plausible_all_spans" in q:
            assert q["plausible_files"] == sorted(q["plausible_all_spans"]), where
            assert q["plausible_all_spans"][q["file"]] == q["plausible_spans"], where


def test_versions(loaded: Loaded) -> None:
    name, questions, corpus = loaded
    if name not in VERSIONED:
        assert not any("versions" in q for q in questions)
        return
    for q in questions:
        where = f"{name}/{q['id']}"
        versions = q["versions"]
        assert versions, f"{where}: no versions"
        assert q["conflict"] == (len(versions) > 1), where
        seen: set[str] = set()
        for v in versions:
            assert v["value"] and v["answers"], where
            assert v["files"] == sorted(v["spans_by_file"]), f"{where}: files and spans_by_file disagree"
            assert not seen & set(v["files"]), f"{where}: a file carries two versions"
            seen |= set(v["files"])
            for fname, spans in v["spans_by_file"].items():
                assert fname in corpus, f"{where}: {fname} is not in the corpus"
                _check_spans(corpus[fname], spans, v["answers"], f"{where} {v['value']!r} in {fname}")
                assert q["all_spans"][fname] == spans, f"{where}: all_spans differs from the version's spans"
        assert seen == set(q["files"]), where
        counts = [len(v["files"]) for v in versions]
        assert counts == sorted(counts, reverse=True), f"{where}: versions not ordered by support"
        assert q["file"] == versions[0]["files"][0], where


def test_set_shapes() -> None:
    by_name = {d.name: _load(d)[0] for d in SET_DIRS}
    ms = by_name["news-multisource"]
    answerable = [q for q in ms if not q["unanswerable"]]
    assert len(answerable) >= 30 and sum(q["unanswerable"] for q in ms) >= 12
    assert sum(len(q.get("files", [])) >= 2 for q in answerable) >= 10, "too few multi-source questions"
    assert any("files" not in q for q in answerable), "no single-source question"
    for name in ("news-conflict", "news-conflict2"):
        conflict = by_name[name]
        assert sum(q["conflict"] for q in conflict) >= 10, name
        assert sum(not q["conflict"] for q in conflict) >= 3, f"{name}: too few controls"
        kinds = {q["kind"] for q in conflict if q["conflict"]}
        assert kinds >= {"person", "organisation", "date", "place", "number"}, name
    assert not any(q["conflict"] for q in by_name["news-agree"])
    assert all(len(q["versions"]) == 1 for q in by_name["news-agree"])


def test_questions_json_is_built_from_its_source() -> None:
    """questions.json is what build_spans.py makes of questions.src.yaml (nobody edited offsets by hand)."""
    spec = importlib.util.spec_from_file_location("build_spans", SETS_DIR / "build_spans.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for d in SET_DIRS:
        if (d / "questions.src.yaml").exists():
            built = module.render(module.build(d))
            on_disk = (d / "questions.json").read_text(encoding="utf-8")
            assert on_disk == built, f"{d.name}: rebuild questions.json with build_spans.py"
