"""Load and validate a pairs file (YAML, or JSON of the same shape). See pairs.yaml for the format."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.errors import InputError


@dataclass(frozen=True)
class Evidence:
    """Where a pair's answer is: `contains` is a substring of one citable sentence of `file`."""

    file: str
    contains: str


@dataclass(frozen=True)
class Pair:
    """One fixed question with its acceptable answers and gold evidence."""

    id: str
    question: str
    answers: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    answerable: bool = True
    tags: tuple[str, ...] = field(default=())


def default_pairs_path() -> Path:
    """The pairs shipped with the package."""
    return Path(__file__).resolve().parent / "pairs.yaml"


def _fail(path: Path, where: str, what: str) -> InputError:
    return InputError(f"{path}: {where}: {what}. Fix the pairs file (its format is described in pairs.yaml).")


def _str_list(value: Any, path: Path, where: str, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail(path, where, f"`{name}` must be a list of non-empty strings")
    return tuple(value)


def parse_pairs(raw: Any, path: Path) -> list[Pair]:
    """Validate the loaded YAML/JSON value and turn it into pairs."""
    if not isinstance(raw, list) or not raw:
        raise _fail(path, "top level", "expected a non-empty list of pairs")
    pairs: list[Pair] = []
    seen: set[str] = set()
    for i, item in enumerate(raw, 1):
        where = f"pair {i}"
        if not isinstance(item, dict):
            raise _fail(path, where, "each pair must be a mapping")
        pid = item.get("id")
        question = item.get("question")
        if not isinstance(pid, str) or not pid.strip():
            raise _fail(path, where, "`id` must be a non-empty string")
        where = f"pair {pid!r}"
        if pid in seen:
            raise _fail(path, where, "duplicate id")
        seen.add(pid)
        if not isinstance(question, str) or not question.strip():
            raise _fail(path, where, "`question` must be a non-empty string")
        answerable = item.get("answerable", True)
        if not isinstance(answerable, bool):
            raise _fail(path, where, "`answerable` must be true or false")
        answers = _str_list(item.get("answers"), path, where, "answers")
        evidence_raw = item.get("evidence") or []
        if not isinstance(evidence_raw, list):
            raise _fail(path, where, "`evidence` must be a list")
        evidence: list[Evidence] = []
        for ev in evidence_raw:
            ok = (
                isinstance(ev, dict)
                and isinstance(ev.get("file"), str)
                and isinstance(ev.get("contains"), str)
            )
            if not (ok and ev["file"] and ev["contains"]):
                raise _fail(path, where, "each evidence entry needs a `file` and a `contains` string")
            evidence.append(Evidence(ev["file"], ev["contains"]))
        if answerable and not answers:
            raise _fail(path, where, "an answerable pair needs at least one acceptable-answer group")
        if answerable and not evidence:
            raise _fail(path, where, "an answerable pair needs at least one evidence entry")
        if not answerable and answers:
            raise _fail(path, where, "an unanswerable pair must have no answers")
        tags = _str_list(item.get("tags"), path, where, "tags")
        pairs.append(Pair(pid, question.strip(), answers, tuple(evidence), answerable, tags))
    return pairs


def load_pairs(path: Path | None = None) -> list[Pair]:
    """Read a pairs file: `.json` as JSON, anything else as YAML (which also reads JSON)."""
    p = path or default_pairs_path()
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"Cannot read pairs file {p} ({e.strerror}): pass an existing --pairs FILE.") from e
    import yaml

    try:
        raw = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as e:
        raise InputError(f"{p} is not valid {'JSON' if p.suffix.lower() == '.json' else 'YAML'}: {e}") from e
    return parse_pairs(raw, p)


def select(pairs: Sequence[Pair], limit: int | None) -> list[Pair]:
    """The first `limit` pairs (all when None)."""
    if limit is not None and limit < 1:
        raise InputError("--limit must be at least 1.")
    return list(pairs[:limit] if limit else pairs)
