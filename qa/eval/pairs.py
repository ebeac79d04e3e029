"""Load and validate a pairs file, and draw reproducible samples of it.

Two formats, told apart by their keys:

- the shipped pairs (`pairs.yaml`, or JSON of the same shape): `id`, `question`, `answers` (groups that must
  all match, `|` between alternatives), `evidence` ({file, contains}), `answerable`, `tags`;
- a SQuAD-style `questions.json` (qa/eval/sets/*/questions.json, see qa/eval/sets/README.md): a list of
  `{id, file, q, unanswerable, answers, spans, plausible?, plausible_spans?}`, where `answers` are
  alternatives (any one is right), `spans` their `[start, end)` offsets in `file`, and `plausible` the
  tempting wrong answer of an unanswerable question.
"""

from __future__ import annotations

import hashlib
import json
import math
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


Span = tuple[int, int]


@dataclass(frozen=True)
class PairVersion:
    """One version of a fact that sources disagree on: its value, its surface forms, the files with it."""

    value: str
    answers: tuple[str, ...]
    files: tuple[str, ...]


SQUAD_KEYS = frozenset({"id", "file", "q", "unanswerable", "answers", "spans"})


@dataclass(frozen=True)
class Pair:
    """One fixed question with its acceptable answers and gold evidence.

    `answers` are the shipped pairs' groups (every group must match; `|` separates alternatives). `gold` are
    a SQuAD-style question's short answers (alternatives: any one is right), `spans` their `[start, end)`
    offsets in `file`; `plausible` / `plausible_spans` the tempting wrong answer of an unanswerable one.
    """

    id: str
    question: str
    answers: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    answerable: bool = True
    tags: tuple[str, ...] = field(default=())
    file: str | None = None
    gold: tuple[str, ...] = ()
    spans: tuple[Span, ...] = ()
    plausible: tuple[str, ...] = ()
    plausible_spans: tuple[Span, ...] = ()
    versions: tuple[PairVersion, ...] = ()  # a conflict set's versions of the answer (qa/eval/versions.py)

    def groups(self) -> list[list[str]]:
        """The acceptable answers as groups of alternatives: every group must be matched by one of its
        alternatives. A SQuAD-style question is one group of its gold answers."""
        if self.gold:
            return [list(self.gold)]
        return [[a.strip() for a in g.split("|") if a.strip()] for g in self.answers]


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


def _new_id(value: Any, seen: set[str], path: Path, where: str) -> str:
    """A pair's id: a non-empty string not seen before (added to `seen`)."""
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, where, "`id` must be a non-empty string")
    if value in seen:
        raise _fail(path, f"{where} ({value!r})", "duplicate id")
    seen.add(value)
    return value


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
        pid = _new_id(item.get("id"), seen, path, where)
        where = f"pair {pid!r}"
        question = item.get("question")
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


def is_squad_style(raw: Any) -> bool:
    """Is this loaded value a SQuAD-style question list (its items have `q` and `unanswerable`)?"""
    return (
        isinstance(raw, list)
        and bool(raw)
        and all(isinstance(x, dict) for x in raw)
        and all(set(x) >= SQUAD_KEYS for x in raw)
    )


def _spans(value: Any, path: Path, where: str, name: str) -> tuple[Span, ...]:
    if value is None:
        return ()
    ok = isinstance(value, list) and all(
        isinstance(s, list | tuple)
        and len(s) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in s)
        and 0 <= s[0] < s[1]
        for s in value
    )
    if not ok:
        raise _fail(path, where, f"`{name}` must be a list of [start, end) pairs with 0 <= start < end")
    return tuple((int(s[0]), int(s[1])) for s in value)


def parse_squad(raw: Any, path: Path) -> list[Pair]:
    """Validate a SQuAD-style question list (see the module docstring) and turn it into pairs."""
    if not is_squad_style(raw):
        raise _fail(path, "top level", f"expected a non-empty list of {{{', '.join(sorted(SQUAD_KEYS))}}}")
    pairs: list[Pair] = []
    seen: set[str] = set()
    for i, item in enumerate(raw, 1):
        pid = _new_id(item["id"], seen, path, f"question {i}")
        where = f"question {pid!r}"
        file, q, una = item["file"], item["q"], item["unanswerable"]
        if not isinstance(file, str) or not file.strip():
            raise _fail(path, where, "`file` must be a non-empty string")
        if not isinstance(q, str) or not q.strip():
            raise _fail(path, where, "`q` must be a non-empty string")
        if not isinstance(una, bool):
            raise _fail(path, where, "`unanswerable` must be true or false")
        gold = _str_list(item["answers"], path, where, "answers")
        spans = _spans(item["spans"], path, where, "spans")
        plausible = _str_list(item.get("plausible"), path, where, "plausible")
        plausible_spans = _spans(item.get("plausible_spans"), path, where, "plausible_spans")
        if not una and not (gold and spans):
            raise _fail(path, where, "an answerable question needs `answers` and their `spans`")
        if una and (gold or spans):
            raise _fail(path, where, "an unanswerable question must have empty `answers` and `spans`")
        if plausible_spans and not plausible:
            raise _fail(path, where, "`plausible_spans` without `plausible`")
        tags = ("unanswerable",) if una else ()
        versions = _versions(item.get("versions"), path, where)
        pairs.append(
            Pair(
                pid,
                " ".join(q.split()),
                answerable=not una,
                tags=tags,
                file=file,
                gold=gold,
                spans=spans,
                plausible=plausible,
                plausible_spans=plausible_spans,
                versions=versions,
            )
        )
    return pairs


def _versions(value: Any, path: Path, where: str) -> tuple[PairVersion, ...]:
    """A question's `versions` ([{value, answers, files, …}]), empty when it has none."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _fail(path, where, "`versions` must be a list of {value, answers, files}")
    out = []
    for v in value:
        if not isinstance(v.get("value"), str):
            raise _fail(path, where, "each version needs a `value` string")
        answers = _str_list(v.get("answers"), path, where, "versions[].answers")
        files = _str_list(v.get("files"), path, where, "versions[].files")
        out.append(PairVersion(v["value"], answers or (v["value"],), files))
    return tuple(out)


def check_spans(pairs: Sequence[Pair], texts: dict[str, str]) -> list[str]:
    """Problems with the pairs' spans against the corpus (file → text): a missing file, or a span whose
    text is not one of the question's answers (plausible answers for `plausible_spans`). Empty when fine."""
    problems: list[str] = []
    for p in pairs:
        if p.file is None:
            continue
        text = texts.get(p.file)
        if text is None:
            problems.append(f"{p.id}: file {p.file!r} is not in the corpus")
            continue
        for spans, allowed in ((p.spans, p.gold), (p.plausible_spans, p.plausible)):
            for s, e in spans:
                if e > len(text) or text[s:e] not in allowed:
                    problems.append(f"{p.id}: span [{s}, {e}) of {p.file} is {text[s:e]!r}, not an answer")
    return problems


def load_pairs(path: Path | None = None) -> list[Pair]:
    """Read a pairs file: `.json` as JSON, anything else as YAML (which also reads JSON). A SQuAD-style
    question list is recognised by its keys."""
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
    if is_squad_style(raw):
        return parse_squad(raw, p)
    return parse_pairs(raw, p)


def select(pairs: Sequence[Pair], limit: int | None) -> list[Pair]:
    """The first `limit` pairs (all when None)."""
    if limit is not None and limit < 1:
        raise InputError("--limit must be at least 1.")
    return list(pairs[:limit] if limit else pairs)


def _draw_order(seed: int, pid: str) -> str:
    return hashlib.sha256(f"{seed}:{pid}".encode()).hexdigest()


def sample(pairs: Sequence[Pair], n: int | None, seed: int = 1) -> list[Pair]:
    """A reproducible sample of `n` pairs, stratified: answerable and unanswerable in the proportion of the
    whole set (rounded half up, at least one of each kind that exists when n >= 2). All pairs when n is
    None or not smaller than the set.

    Within each kind the pairs are taken in the order of sha256("<seed>:<id>"), so the sample depends only
    on the ids and the seed (not on the Python version), and a smaller sample with the same seed is part
    of a larger one. The sample keeps the file order.
    """
    if n is None or n >= len(pairs):
        return list(pairs)
    if n < 1:
        raise InputError("--sample must be at least 1.")
    ans = [p for p in pairs if p.answerable]
    una = [p for p in pairs if not p.answerable]
    n_ans = math.floor(n * len(ans) / len(pairs) + 0.5)
    if n >= 2 and ans and una:
        n_ans = min(max(n_ans, 1), n - 1)
    n_ans = min(n_ans, len(ans))
    n_una = min(n - n_ans, len(una))
    chosen = {
        p.id
        for kind, k in ((ans, n_ans), (una, n_una))
        for p in sorted(kind, key=lambda p: _draw_order(seed, p.id))[:k]
    }
    return [p for p in pairs if p.id in chosen]
