"""A capable-model stand-in's script, pure: what a strong instruct model would answer, and how to score
the pipeline on it.

The stand-in (tests/standin.py, a server that speaks Ollama's wire protocol) reads the numbered evidence
lines (`[n] sentence`) and the `Question:` line from the prompt the pipeline sends, looks the question up
in the set's gold answers, and answers tersely, as a strong model does: `1185 [3].` What it plays for each
question is fixed by the question id and a seed, from a configurable mix (`Mix`):

| mode | answerable? | reply |
|---|---|---|
| `gold` | yes | the gold answer, with the marker of the first evidence line that holds it |
| `wrong_marker` | yes | the gold answer, with the marker of a line that does not hold it |
| `wrong_answer` | yes | a wrong value of the same type, with the marker of the line it comes from |
| `cannot` | either | the refusal sentinel, `qa.prompts.REFUSAL` |
| `plausible` | no | the plausible (wrong) answer, with the marker of the line that holds it |

`mode_for(id, seed, …)` is the planned mode, a pure function both the server and the scorer call. What it
actually played can differ, and the server logs it (`Reply.played`): when no evidence line holds a gold
answer a strong model cannot answer (`cannot`); with no line free of the gold answer a wrong marker is
impossible (`gold`); with no same-type value in the evidence there is no wrong answer (`cannot`).

A wrong value of the same type comes from qa/eval/standin_wrong.py; the stand-in metrics that score the
pipeline on what it played, from qa/eval/standin_score.py.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from index.errors import InputError
from qa.eval.pairs import Pair
from qa.eval.short import contains_groups, contains_phrase, squad_tokens
from qa.eval.standin_wrong import clean_value, wrong_values
from qa.prompts import REFUSAL

ANSWERABLE_MODES: tuple[str, ...] = ("gold", "wrong_marker", "wrong_answer", "cannot")
UNANSWERABLE_MODES: tuple[str, ...] = ("plausible", "cannot")
_DEFAULT_ANSWERABLE = (("gold", 4.0), ("wrong_marker", 2.0), ("wrong_answer", 2.0), ("cannot", 2.0))
_DEFAULT_UNANSWERABLE = (("plausible", 7.0), ("cannot", 3.0))
_EVIDENCE = re.compile(r"^\s*\[(\d{1,3})\]\s*(\S.*?)\s*$")
_QUESTION = re.compile(r"^\s*Question\s*:\s*(\S.*?)\s*$", re.IGNORECASE)
_ANSWER = re.compile(r"^\s*Answer\s*:", re.IGNORECASE)
_ABOUT = re.compile(r"\s*\(about:.*\)\s*$", re.DOTALL)


# ---- the mix and the planned mode -----------------------------------------------------------------------
@dataclass(frozen=True)
class Mix:
    """Relative weights of the modes for answerable and for unanswerable questions."""

    answerable: tuple[tuple[str, float], ...]
    unanswerable: tuple[tuple[str, float], ...]

    def __str__(self) -> str:
        def part(ws: tuple[tuple[str, float], ...]) -> str:
            return ",".join(f"{m}={w:g}" for m, w in ws)

        return f"{part(self.answerable)};{part(self.unanswerable)}"


def parse_mix(text: str) -> Mix:
    """`"gold=4,wrong_marker=2,wrong_answer=2,cannot=2;plausible=7,cannot=3"`: weights for answerable
    questions, a semicolon, weights for unanswerable ones (either part may be left out for its default)."""
    default = (_DEFAULT_ANSWERABLE, _DEFAULT_UNANSWERABLE)
    parts = text.split(";")
    if len(parts) > 2:
        raise InputError(
            f"--standin-mix {text!r}: at most one ';' (answerable weights;unanswerable weights)."
        )
    out: list[tuple[tuple[str, float], ...]] = []
    for i, allowed in enumerate((ANSWERABLE_MODES, UNANSWERABLE_MODES)):
        raw = parts[i].strip() if i < len(parts) else ""
        if not raw:
            out.append(default[i])
            continue
        weights: list[tuple[str, float]] = []
        for item in raw.split(","):
            name, _, value = item.partition("=")
            name = name.strip()
            try:
                w = float(value)
            except ValueError:
                w = -1.0
            if name not in allowed or w < 0:
                raise InputError(
                    f"--standin-mix {text!r}: {item.strip()!r} is not MODE=WEIGHT with MODE one of "
                    f"{', '.join(allowed)} and WEIGHT >= 0."
                )
            weights.append((name, w))
        if sum(w for _, w in weights) <= 0:
            raise InputError(f"--standin-mix {text!r}: the weights of a part must not all be 0.")
        out.append(tuple(weights))
    return Mix(out[0], out[1])


DEFAULT_MIX = Mix(_DEFAULT_ANSWERABLE, _DEFAULT_UNANSWERABLE)


def draw(seed: int, qid: str, salt: str) -> float:
    """A number in [0, 1) fixed by (seed, question id, salt): sha256, so it is the same everywhere."""
    digest = hashlib.sha256(f"{seed}:{qid}:{salt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _pick(seed: int, qid: str, salt: str, n: int) -> int:
    return min(n - 1, int(draw(seed, qid, salt) * n))


def mode_for(qid: str, seed: int, answerable: bool, has_plausible: bool, mix: Mix = DEFAULT_MIX) -> str:
    """The mode the stand-in plans for a question: a weighted draw from the mix, fixed by id and seed.
    `plausible` needs a plausible answer; without one its weight is left out."""
    weights = [
        (m, w)
        for m, w in (mix.answerable if answerable else mix.unanswerable)
        if w > 0 and (answerable or has_plausible or m != "plausible")
    ]
    if not weights:
        return "cannot"
    u = draw(seed, qid, "mode") * sum(w for _, w in weights)
    for m, w in weights:
        if u < w:
            return m
        u -= w
    return weights[-1][0]


# ---- reading the prompt ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Prompt:
    """What the stand-in reads from a prompt: the question and the numbered evidence lines."""

    question: str
    evidence: tuple[tuple[int, str], ...]


def parse_prompt(text: str) -> Prompt | None:
    """The last `Question:` line and the `[n] sentence` lines that belong to it: those before it back to
    an earlier `Question:` or `Answer:` line (an example in the instructions), or, when there are none,
    those after it. None without a question line."""
    lines = text.splitlines()
    qi = next((i for i in range(len(lines) - 1, -1, -1) if _QUESTION.match(lines[i])), None)
    if qi is None:
        return None
    m = _QUESTION.match(lines[qi])
    assert m is not None
    found: list[tuple[int, str]] = []
    for line in reversed(lines[:qi]):
        if _QUESTION.match(line) or _ANSWER.match(line):
            break
        if ev := _EVIDENCE.match(line):
            found.append((int(ev.group(1)), ev.group(2)))
    found.reverse()
    if not found:
        for line in lines[qi + 1 :]:
            if ev := _EVIDENCE.match(line):
                found.append((int(ev.group(1)), ev.group(2)))
    seen: dict[int, str] = {}
    for n, t in found:
        seen.setdefault(n, t)
    return Prompt(m.group(1), tuple(seen.items()))


def prompt_of(messages: Sequence[Mapping[str, str]]) -> Prompt | None:
    """The prompt of a chat request: the last user message that has a question and evidence, else all
    messages read as one text."""
    for msg in reversed(messages):
        if msg.get("role") == "user":
            p = parse_prompt(str(msg.get("content") or ""))
            if p is not None and p.evidence:
                return p
    return parse_prompt("\n".join(str(m.get("content") or "") for m in messages))


def question_key(question: str) -> str:
    """How questions are matched: NFKC, a follow-up's " (about: …)" dropped, whitespace collapsed,
    case-folded."""
    q = _ABOUT.sub("", unicodedata.normalize("NFKC", question))
    return " ".join(q.split()).casefold()


# ---- the script -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """One scripted question: its gold answer groups (alternatives each) and plausible answers."""

    id: str
    question: str
    answerable: bool
    groups: tuple[tuple[str, ...], ...]
    plausible: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reply:
    """What the stand-in said to one request, and why."""

    text: str
    played: str
    id: str | None = None
    mode: str | None = None
    value: str | None = None
    marker: int | None = None
    note: str = ""
    question: str = ""

    def as_dict(self) -> dict[str, Any]:
        """For the log and results.json."""
        return asdict(self)


def _answer(value: str, marker: int) -> str:
    return f"{clean_value(value)} [{marker}]."


class Script:
    """The gold answers of a set, looked up by question text, and the stand-in's policy (seed, mix)."""

    def __init__(self, entries: Sequence[Entry], seed: int = 1, mix: Mix = DEFAULT_MIX) -> None:
        self.seed = seed
        self.mix = mix
        self.entries = list(entries)
        self._by_key: dict[str, Entry] = {}
        for e in self.entries:
            self._by_key.setdefault(question_key(e.question), e)  # a repeated question: the first one

    @classmethod
    def from_pairs(cls, pairs: Sequence[Pair], seed: int = 1, mix: Mix = DEFAULT_MIX) -> Script:
        """A script from loaded pairs (SQuAD-style questions or the shipped pairs)."""
        entries = [
            Entry(p.id, p.question, p.answerable, tuple(tuple(g) for g in p.groups()), tuple(p.plausible))
            for p in pairs
        ]
        return cls(entries, seed, mix)

    def lookup(self, question: str) -> Entry | None:
        """The scripted entry for a question (the first, if the set asks it twice)."""
        return self._by_key.get(question_key(question))

    def mode(self, entry: Entry) -> str:
        """The planned mode of an entry (`mode_for`)."""
        return mode_for(entry.id, self.seed, entry.answerable, bool(entry.plausible), self.mix)

    def reply(self, messages: Sequence[Mapping[str, str]]) -> Reply:
        """What the stand-in answers to a chat request."""
        prompt = prompt_of(messages)
        if prompt is None:
            return Reply(REFUSAL, "unparsed", note="no `Question:` line in the prompt")
        entry = self.lookup(prompt.question)
        if entry is None:
            return Reply(
                REFUSAL, "unscripted", note="the question is not in the script", question=prompt.question
            )
        return self.play(entry, prompt, self.mode(entry))

    def play(self, entry: Entry, prompt: Prompt, mode: str) -> Reply:
        """Carry out `mode` for `entry` on the evidence of `prompt` (see the module docstring)."""

        def say(
            text: str, played: str, value: str | None = None, marker: int | None = None, note: str = ""
        ) -> Reply:
            return Reply(text, played, entry.id, mode, value, marker, note, prompt.question)

        lines = prompt.evidence
        if mode == "cannot":
            return say(REFUSAL, "cannot")
        if mode == "plausible":
            if not entry.plausible:
                return say(REFUSAL, "cannot", note="no plausible answer")
            for n, line in lines:
                for alt in entry.plausible:
                    if contains_phrase(line, alt):
                        return say(_answer(alt, n), "plausible", clean_value(alt), n)
            if not lines:
                return say(REFUSAL, "cannot", note="no evidence lines")
            alt = clean_value(entry.plausible[0])
            want = Counter(squad_tokens(alt))
            n = max(lines, key=lambda ln: (sum((Counter(squad_tokens(ln[1])) & want).values()), -ln[0]))[0]
            return say(_answer(alt, n), "plausible", alt, n, "no evidence line holds it: the closest one")
        holding = [(n, line) for n, line in lines if contains_groups(line, entry.groups)]
        if not holding:
            return say(REFUSAL, "cannot", note="no evidence line holds a gold answer")
        n_gold, line = holding[0]
        value = " and ".join(
            clean_value(next(a for a in g if contains_phrase(line, a))) for g in entry.groups
        )
        gold_ns = {n for n, _ in holding}
        if mode == "wrong_marker":
            others = [n for n, _ in lines if n not in gold_ns]
            if not others:
                return say(_answer(value, n_gold), "gold", value, n_gold, "every evidence line holds it")
            n = others[_pick(self.seed, entry.id, "marker", len(others))]
            return say(_answer(value, n), "wrong_marker", value, n)
        if mode == "wrong_answer":
            alternatives = [a for g in entry.groups for a in g]
            cands = wrong_values(value, alternatives, lines, gold_ns)
            if not cands:
                return say(REFUSAL, "cannot", note="no same-type wrong value in the evidence")
            wrong, n = cands[_pick(self.seed, entry.id, "value", len(cands))]
            return say(_answer(wrong, n), "wrong_answer", clean_value(wrong), n)
        return say(_answer(value, n_gold), "gold", value, n_gold)
