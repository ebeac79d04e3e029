"""Load and validate a pairs file (pydantic models of its two formats), and draw reproducible samples of it.

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
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    ValidationError,
    field_validator,
    model_validator,
)

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


# ---- the file formats, as pydantic models --------------------------------------------------------------
def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("blank")
    return value


def _span(value: list[int]) -> list[int]:
    if not 0 <= value[0] < value[1]:
        raise ValueError("not 0 <= start < end")
    return value


Text = Annotated[str, AfterValidator(_not_blank)]
SpanItem = Annotated[list[int], Field(min_length=2, max_length=2), AfterValidator(_span)]
_LISTS = ("answers", "evidence", "tags", "plausible", "plausible_spans", "versions", "files")
# What a field must be, said when a value of it is refused (pydantic's own wording names Python types).
_FIELD_HELP = {
    "id": "`id` must be a non-empty string",
    "question": "`question` must be a non-empty string",
    "q": "`q` must be a non-empty string",
    "file": "`file` must be a non-empty string",
    "answerable": "`answerable` must be true or false",
    "unanswerable": "`unanswerable` must be true or false",
    "answers": "`answers` must be a list of non-empty strings",
    "tags": "`tags` must be a list of non-empty strings",
    "plausible": "`plausible` must be a list of non-empty strings",
    "evidence": "`evidence` must be a list; each evidence entry needs a `file` and a `contains` string",
    "spans": "`spans` must be a list of [start, end) pairs with 0 <= start < end",
    "plausible_spans": "`plausible_spans` must be a list of [start, end) pairs with 0 <= start < end",
    "versions": "`versions` must be a list of {value, answers, files}: a `value` string and lists of "
    "non-empty strings",
}


class _Entry(BaseModel):
    """An item as written in a file: strict types (YAML's "no" is not false, 1 is not "1"), keys this
    project does not read are ignored, and a list field may be left empty (`null`)."""

    model_config = ConfigDict(strict=True, frozen=True)

    @field_validator(*_LISTS, mode="before", check_fields=False)
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class EvidenceEntry(_Entry):
    """`{file, contains}` of a shipped pair."""

    file: Text
    contains: Text


class PairEntry(_Entry):
    """One pair of a shipped pairs file (`pairs.yaml`; the module docstring)."""

    id: Text
    question: Text
    answerable: bool = True
    answers: list[Text] = []
    evidence: list[EvidenceEntry] = []
    tags: list[Text] = []

    @model_validator(mode="after")
    def _answers_fit_answerable(self) -> PairEntry:
        if self.answerable and not self.answers:
            raise ValueError("an answerable pair needs at least one acceptable-answer group (`answers`)")
        if self.answerable and not self.evidence:
            raise ValueError("an answerable pair needs at least one evidence entry (`evidence`)")
        if not self.answerable and self.answers:
            raise ValueError("an unanswerable pair (`answerable: false`) must have no answers")
        return self

    def to_pair(self) -> Pair:
        """The pair this entry describes."""
        evidence = tuple(Evidence(e.file, e.contains) for e in self.evidence)
        return Pair(
            self.id, self.question.strip(), tuple(self.answers), evidence, self.answerable, tuple(self.tags)
        )


class VersionEntry(_Entry):
    """One of a SQuAD-style question's `versions`; `answers` defaults to the value itself."""

    value: str
    answers: list[Text] = []
    files: list[Text] = []


class SquadEntry(_Entry):
    """One question of a SQuAD-style `questions.json` (the module docstring)."""

    id: Text
    file: Text
    q: Text
    unanswerable: bool
    answers: list[Text]
    spans: list[SpanItem]
    plausible: list[Text] = []
    plausible_spans: list[SpanItem] = []
    versions: list[VersionEntry] = []

    @model_validator(mode="after")
    def _answers_fit_unanswerable(self) -> SquadEntry:
        if not self.unanswerable and not (self.answers and self.spans):
            raise ValueError("an answerable question needs `answers` and their `spans`")
        if self.unanswerable and (self.answers or self.spans):
            raise ValueError("an unanswerable question must have empty `answers` and `spans`")
        if self.plausible_spans and not self.plausible:
            raise ValueError("`plausible_spans` without `plausible`")
        return self

    def to_pair(self) -> Pair:
        """The pair this question describes."""
        return Pair(
            self.id,
            " ".join(self.q.split()),
            answerable=not self.unanswerable,
            tags=("unanswerable",) if self.unanswerable else (),
            file=self.file,
            gold=tuple(self.answers),
            spans=tuple((s[0], s[1]) for s in self.spans),
            plausible=tuple(self.plausible),
            plausible_spans=tuple((s[0], s[1]) for s in self.plausible_spans),
            versions=tuple(
                PairVersion(v.value, tuple(v.answers) or (v.value,), tuple(v.files)) for v in self.versions
            ),
        )


EntryT = TypeVar("EntryT", PairEntry, SquadEntry)


class ItemsFile(RootModel[list[EntryT]], Generic[EntryT]):
    """A file of either format: a non-empty list of items with distinct ids."""

    root: list[EntryT] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> ItemsFile[EntryT]:
        seen: set[str] = set()
        for i, e in enumerate(self.root, 1):
            if e.id in seen:
                raise ValueError(f"item {i} ({e.id!r}): duplicate id")
            seen.add(e.id)
        return self


PairsFile = ItemsFile[PairEntry]
SquadFile = ItemsFile[SquadEntry]


def _refusal(e: ValidationError, raw: Any, path: Path, item: str, fix: str) -> InputError:
    """The first problem pydantic found, said as `<file> item <n> (<id>): <what>. <fix>`."""
    err = e.errors()[0]
    loc, kind = err["loc"], err["type"]
    msg = str(err["msg"]).removeprefix("Value error, ")
    if not loc:  # the list itself: not a non-empty list, or two items share an id (`msg` names them)
        return InputError(
            f"{path} {msg}. {fix}"
            if kind == "value_error"
            else f"{path}: expected a non-empty list of {item}s. {fix}"
        )
    n = int(loc[0])
    entry = raw[n] if isinstance(raw, list) and n < len(raw) else None
    pid = entry.get("id") if isinstance(entry, dict) else None
    where = f"{path} item {n + 1}" + (f" ({pid!r})" if isinstance(pid, str) and pid.strip() else "")
    if len(loc) == 1:  # the item as a whole: not a mapping, or its fields do not fit together
        what = msg if kind == "value_error" else f"each {item} must be a mapping of its keys"
    else:
        what = _FIELD_HELP.get(str(loc[1]), f"`{loc[1]}`: {msg}")
    return InputError(f"{where}: {what}. {fix}")


_FIX_PAIRS = "Fix the pairs file (its format is described in pairs.yaml)."
_FIX_SQUAD = "Fix the questions file (its format is described in qa/eval/sets/README.md)."


def parse_pairs(raw: Any, path: Path) -> list[Pair]:
    """Validate the loaded YAML/JSON value of a shipped pairs file and turn it into pairs."""
    try:
        return [e.to_pair() for e in PairsFile.model_validate(raw).root]
    except ValidationError as e:
        raise _refusal(e, raw, path, "pair", _FIX_PAIRS) from None


def is_squad_style(raw: Any) -> bool:
    """Is this loaded value a SQuAD-style question list (its items have `q` and `unanswerable`)?"""
    return (
        isinstance(raw, list)
        and bool(raw)
        and all(isinstance(x, dict) for x in raw)
        and all(set(x) >= SQUAD_KEYS for x in raw)
    )


def parse_squad(raw: Any, path: Path) -> list[Pair]:
    """Validate a SQuAD-style question list (see the module docstring) and turn it into pairs."""
    if not is_squad_style(raw):
        keys = ", ".join(sorted(SQUAD_KEYS))
        raise InputError(f"{path}: expected a non-empty list of {{{keys}}}. {_FIX_SQUAD}")
    try:
        return [e.to_pair() for e in SquadFile.model_validate(raw).root]
    except ValidationError as e:
        raise _refusal(e, raw, path, "question", _FIX_SQUAD) from None


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
