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

A wrong value of the same type (no tagger needed, deterministic): for a gold answer with a digit, another
number from the evidence put in the gold answer's first number's place ("1,230 km" → "320 km"); for a
gold answer with a capitalised word, another capitalised phrase of the evidence; otherwise as many words
(at most 6) from another line, from its first word that is not a stop word. Values are taken from lines
that hold no gold answer first, and never overlap a gold answer; one is picked by a hash of the id and
seed.

Stand-in metrics per record (None where the mode does not apply), keyed by the played mode:

- `standin_correct_kept` (gold): not refused, contains_gold, a short answer of at most 12 words, and a
  citation covering a gold span (cited_gold_span; evidence hit for pairs without spans);
- `standin_marker_repaired` (wrong_marker): not refused, contains_gold and a citation covering a gold span;
- `standin_hallucination_passed` (wrong_answer, plausible): not refused and the answer text contains the
  wrong value the stand-in asserted (short.contains_phrase);
- `standin_refusal_honoured` (cannot): refused.

A question the pipeline refused before asking the model is scored under its planned mode.
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
from qa.prompts import REFUSAL

ANSWERABLE_MODES: tuple[str, ...] = ("gold", "wrong_marker", "wrong_answer", "cannot")
UNANSWERABLE_MODES: tuple[str, ...] = ("plausible", "cannot")
_DEFAULT_ANSWERABLE = (("gold", 4.0), ("wrong_marker", 2.0), ("wrong_answer", 2.0), ("cannot", 2.0))
_DEFAULT_UNANSWERABLE = (("plausible", 7.0), ("cannot", 3.0))
MAX_SHORT_WORDS = 12
STANDIN_RATES: tuple[str, ...] = (
    "standin_correct_kept",
    "standin_marker_repaired",
    "standin_hallucination_passed",
    "standin_refusal_honoured",
)
_EVIDENCE = re.compile(r"^\s*\[(\d{1,3})\]\s*(\S.*?)\s*$")
_QUESTION = re.compile(r"^\s*Question\s*:\s*(\S.*?)\s*$", re.IGNORECASE)
_ANSWER = re.compile(r"^\s*Answer\s*:", re.IGNORECASE)
_ABOUT = re.compile(r"\s*\(about:.*\)\s*$", re.DOTALL)
# A number as a whole token: "1,230", "74,000", "1st" (an ordinal), not the "1990" of "1990s".
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?:st|nd|rd|th)?(?!\w)")
_CAPITALISED = re.compile(
    r"[A-Z][\w'’.-]*(?:\s+(?:(?:of|de|du|da|van|von|der|den|la|le|the|and|&)\s+)?[A-Z][\w'’.-]*)*"
)
_STOP_WORDS = (
    "a an the in on at of to for from by with and or but as it its this that these those he she they we i "
    "is are was were be been has have had do does did not no after before during when while if however "
    "there their his her which who whom what where why how than then also such into over under"
)
_STOP = frozenset(_STOP_WORDS.split())
_TRAILING = ".,;: "


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


def value_kind(value: str) -> str:
    """`number` (it has a digit), `name` (a capitalised word past a leading article) or `phrase`."""
    if re.search(r"\d", value):
        return "number"
    words = re.sub(r"^(?:the|a|an)\s+", "", value.strip(), flags=re.IGNORECASE).split()
    return "name" if any(w[:1].isupper() for w in words) else "phrase"


def _candidates(kind: str, line: str) -> list[str]:
    if kind == "number":
        return _NUMBER.findall(line)
    if kind == "name":
        out = []
        for m in _CAPITALISED.finditer(line):
            phrase = m.group().rstrip(".’'")
            words = phrase.split()
            if all(w.lower() in _STOP for w in words):
                continue
            if len(words) == 1 and not line[: m.start()].strip():
                continue  # a sentence's first word is capitalised by grammar, not because it is a name
            out.append(phrase)
        return out
    return []


def _phrase_window(line: str, n: int, avoid: set[str]) -> str | None:
    words = line.split()
    for i, w in enumerate(words):
        t = squad_tokens(w)
        if t and t[0] not in _STOP and t[0] not in avoid:
            return " ".join(words[i : i + n]).rstrip(_TRAILING)
    return None


def wrong_values(
    value: str, alternatives: Sequence[str], lines: Sequence[tuple[int, str]], gold_lines: set[int]
) -> list[tuple[str, int]]:
    """Same-type wrong values (value, line number) from the evidence: lines without a gold answer first;
    none overlaps a gold answer. A number is replaced by another of the same kind (ordinal or not),
    preferably with as many digits (a year for a year)."""
    kind = value_kind(value)
    gold_tokens = {t for a in alternatives for t in squad_tokens(a)}
    gold_numbers = {n.replace(",", "") for a in alternatives for n in _NUMBER.findall(a)}
    first = _NUMBER.search(value)
    if kind == "number" and first is None:  # a digit inside a word ("A380"): no number to replace
        kind = "phrase"
    ordered = [ln for ln in lines if ln[0] not in gold_lines] + [ln for ln in lines if ln[0] in gold_lines]
    out: dict[str, tuple[str, int, bool]] = {}  # normalised value → (value, line, same size as the gold)
    for n, line in ordered:
        for cand in _candidates(kind, line):
            same_size = True
            if kind == "number":
                assert first is not None
                if cand.replace(",", "") in gold_numbers or _ordinal(cand) != _ordinal(first.group()):
                    continue
                wrong = value[: first.start()] + cand + value[first.end() :]
                same_size = _digits(cand) == _digits(first.group())
            elif set(squad_tokens(cand)) & gold_tokens:
                continue
            else:
                wrong = cand
            out.setdefault(" ".join(squad_tokens(wrong)), (wrong, n, same_size))
    found = [(w, n) for w, n, same in out.values() if same] or [(w, n) for w, n, _ in out.values()]
    return found or wrong_values_phrase(value, lines, gold_lines, gold_tokens)


def _ordinal(number: str) -> bool:
    return number[-1:].isalpha()


def _digits(number: str) -> int:
    return sum(ch.isdigit() for ch in number)


def clean_value(value: str) -> str:
    """An answer as a model would say it: no leading "(~", no trailing punctuation or unmatched ")"."""
    v = value.strip().lstrip("~([{\"'“‘ ").rstrip(_TRAILING + "\"'”’")
    if v.endswith(")") and "(" not in v:
        v = v[:-1].rstrip(_TRAILING)
    return v or value.strip()


def wrong_values_phrase(
    value: str, lines: Sequence[tuple[int, str]], gold_lines: set[int], gold_tokens: set[str]
) -> list[tuple[str, int]]:
    """The `phrase` fallback: as many words as the gold answer (at most 6) from a line without it."""
    n_words = max(1, min(6, len(value.split())))
    out = []
    for n, line in lines:
        if n in gold_lines:
            continue
        w = _phrase_window(line, n_words, gold_tokens)
        if w and not set(squad_tokens(w)) & gold_tokens:
            out.append((w, n))
    return out


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


# ---- scoring --------------------------------------------------------------------------------------------
def score_standin(
    info: Mapping[str, Any], metrics: Mapping[str, Any], answer: str, answered: bool
) -> dict[str, Any]:
    """The stand-in metrics of one record (module docstring). `info` is the stand-in's log entry for the
    question (`Reply.as_dict()`), or `{"mode": planned}` when the model was not asked; `metrics` are the
    record's other metrics."""
    played = info.get("played") or info.get("mode")
    value = info.get("value")
    out: dict[str, Any] = {"standin_mode": played} | dict.fromkeys(STANDIN_RATES)
    span = metrics.get("cited_gold_span")
    span_ok = bool(span) if span is not None else bool(metrics.get("evidence_hit"))
    kept = answered and bool(metrics.get("contains_gold"))
    if played == "gold":
        words = metrics.get("short_answer_words")
        out["standin_correct_kept"] = kept and words is not None and words <= MAX_SHORT_WORDS and span_ok
    elif played == "wrong_marker":
        out["standin_marker_repaired"] = kept and span_ok
    elif played in ("wrong_answer", "plausible"):
        out["standin_hallucination_passed"] = answered and bool(value) and contains_phrase(answer, str(value))
    elif played == "cannot":
        out["standin_refusal_honoured"] = bool(metrics.get("refused"))
    return out


def standin_summary(metrics: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Means of the stand-in metrics and how often each mode was played; empty when no record has them."""
    ms = [m for m in metrics if "standin_mode" in m]
    if not ms:
        return {}
    out: dict[str, Any] = {}
    for key in STANDIN_RATES:
        vals = [float(m[key]) for m in ms if m.get(key) is not None]
        out[key] = sum(vals) / len(vals) if vals else None
    out["standin_modes"] = dict(sorted(Counter(str(m["standin_mode"]) for m in ms).items()))
    return out
