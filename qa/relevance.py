"""Does a sentence answer the question that was asked? Pure, deterministic checks used by the pipeline
on top of citation support: the expected answer type, the question's focus, and negation.

Support (qa/cite.py) says a claim is backed by its evidence. These say the claim is an answer: a "when"
question needs a date, a "how many" question a number, and the answer must still be about what was asked.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Literal

from qa.text import QUESTION_WORDS, STOPWORDS, content_words, names, normalize, numbers, stem, words

AnswerType = Literal["number", "date", "name", "reason", "any"]

_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
]
_DATE_WORDS = re.compile(
    r"\b(" + "|".join(_MONTHS) + r"|today|yesterday|tomorrow|week|month|year|morning|evening|night|"
    r"noon|midday|early|late|since|\d{4})\b",
    re.IGNORECASE,
)
_MONTH_SET = frozenset(_MONTHS[:12])
_NEGATION = frozenset(
    {
        "not",
        "no",
        "never",
        "none",
        "nobody",
        "nothing",
        "neither",
        "nor",
        "without",
        "n't",
        "cannot",
        "wasn't",
        "weren't",
        "isn't",
        "aren't",
        "didn't",
        "doesn't",
        "don't",
        "hasn't",
        "haven't",
        "hadn't",
        "won't",
        "wouldn't",
        "couldn't",
    }
)


def answer_type(question: str) -> AnswerType:
    """What kind of answer the question wants."""
    q = normalize(question)
    if re.search(r"\bhow (many|much|far|long|old|big|large|close)\b|\bwhat (number|percentage|share)\b", q):
        return "number"
    if re.search(r"\bwhen\b|\bwhat (date|day|time|month|year)\b|\bon which (day|date)\b", q):
        return "date"
    if re.search(r"\bwho(m|se)?\b", q):
        return "name"
    if re.search(r"^\s*why\b|\bwhy (is|are|was|were|does|do|did|would|should|has|have)\b|\bwhat makes\b", q):
        return "reason"
    return "any"


_REASON = re.compile(
    r"\b(because|since|so that|due to|thanks to|in order to|means|meaning|gives?|giving|allows?|lets|key|"
    r"strategic\w*|important|importance|crucial|vital|lies in|aims?|aimed|to ensure)\b",
    re.IGNORECASE,
)
_UNCLEAR = re.compile(r"(\bnot|n't) (yet |still )?(clear|known)\b|\b(unclear|unknown)\b", re.IGNORECASE)
_COUNTED = re.compile(
    r"\bhow (?:many|much)\s+(?:of\s+the\s+)?([a-z][\w-]*(?:\s+[a-z][\w-]*)?)", re.IGNORECASE
)
_ATTRIBUTE = re.compile(
    r"\b(?:what|who)(?:'s|\s+is|\s+are|\s+was|\s+were)\s+the\s+([a-z]+)\s+(?:of|for|in)\b", re.IGNORECASE
)


def key_attribute(question: str) -> str | None:
    """The thing a question is about when it asks for an attribute: "what is the *population* of…",
    "who is the *governor* of…", "how much *money*…". Stemmed; None when there is no such word."""
    m = _ATTRIBUTE.search(question)
    if m:
        return stem(m.group(1))
    m = _COUNTED.search(question)
    if m:
        first = m.group(1).split()[0]
        if first.lower() not in STOPWORDS | QUESTION_WORDS:
            return stem(first)
    return None


def counted_nouns(question: str) -> frozenset[str]:
    """For "how many NATO troops…": the stems of the counted words ({"nato", "troop"})."""
    m = _COUNTED.search(question)
    if not m:
        return frozenset()
    return frozenset(stem(w) for w in m.group(1).split() if w.lower() not in STOPWORDS | QUESTION_WORDS)


def count_near_noun(text: str, nouns: frozenset[str]) -> bool:
    """Does a quantity stand next to one of the counted words ("7,000 NATO forces", "dozens of
    districts")? With no counted words, any quantity will do."""
    if not nouns:
        return bool(quantities(text))
    toks = words(text)
    for i, tok in enumerate(toks):
        if not (numbers(tok) & quantities(text)):
            continue
        window = toks[max(0, i - 2) : i] + toks[i + 1 : i + 4]
        if {stem(w) for w in window} & nouns:
            return True
    return False


def quantities(text: str) -> frozenset[str]:
    """Numbers that are amounts, not parts of a date ("June 20th", "20 June", "2021")."""
    toks = words(text)
    out: set[str] = set()
    for i, tok in enumerate(toks):
        near = {toks[j] for j in (i - 1, i + 1) if 0 <= j < len(toks)}
        if near & _MONTH_SET or re.fullmatch(r"(19|20)\d\d", tok):
            continue
        out |= numbers(tok)
    return frozenset(out)


def has_answer_type(text: str, kind: AnswerType, question: str = "") -> bool:
    """Does `text` contain something of the wanted kind (not just what the question already says)?"""
    if kind == "number":
        counted = counted_nouns(question)
        if _UNCLEAR.search(text) and counted & content_words(text) and coverage(question, text) >= 0.5:
            return True  # "it was not clear how many forces were killed" answers "how many forces…?"
        return bool(quantities(text) - numbers(question)) and count_near_noun(text, counted)
    if kind == "reason":
        return bool(_REASON.search(text))
    if kind == "date":
        return bool(_DATE_WORDS.search(text)) or bool(numbers(text))
    if kind == "name":
        caps = {stem(normalize(c)) for c in re.findall(r"\b[A-Z][\w’'-]*[a-z]\w*", text)}
        return bool(caps - content_words(question) - STOPWORDS - QUESTION_WORDS)
    noun = _which_noun(question)
    if noun is None:
        return True
    # "Which country…?" wants a name the question does not already hold ("Afghan government" → not
    # "Afghanistan"), and where the text says "district" it must say which one.
    return has_answer_type(text, "name", question) and _names_the(noun, text, question)


# "which three northern provinces": skip counts and directions to reach the noun.
_WHICH = re.compile(
    r"\b(?:which|what)\s+(?:(?:one|two|three|four|five|six|seven|eight|nine|ten|\d+|other|main|major|key|"
    r"northern|southern|eastern|western|central|local|first|last)\s+)*([a-z]+)\b",
    re.IGNORECASE,
)


def _which_noun(question: str) -> str | None:
    """The noun of a "which district…" / "which other Kunduz district…" question, stemmed, if any."""
    m = _WHICH.search(question)
    if not m:
        return None
    for tok in re.findall(r"[\w’'-]+", question[m.start(1) :])[:3]:
        if tok[:1].isupper():
            continue  # a name in the phrase ("which other Kunduz district")
        if tok.lower() in STOPWORDS | QUESTION_WORDS:
            return None
        return stem(tok)
    return None


def named_candidates(question: str, texts: list[str]) -> Counter[str]:
    """For a "which district…" question: the names written next to "district" across `texts`, counted
    ("Imam Sahib" in nine sentences beats "Afghanistan" in one headline)."""
    noun = _which_noun(question)
    votes: Counter[str] = Counter()
    if noun is None:
        return votes
    asked = content_words(question)
    for text in texts:
        toks = re.findall(r"[\w’'-]+", unicodedata.normalize("NFKC", text))
        for i, t in enumerate(toks):
            if stem(t) != noun or t.endswith(("’s", "'s")):
                continue  # "the country's High Council" names a council, not a country
            for span in (toks[max(0, i - 2) : i], toks[i + 1 : i + 3]):
                name = [
                    w
                    for w in span
                    if w[:1].isupper() and w.lower() not in STOPWORDS and not w.endswith(("’s", "'s"))
                ]
                if name and not ({stem(w) for w in name} & asked):
                    votes[" ".join(name)] += 1
    return votes


def _names_the(noun: str, text: str, question: str) -> bool:
    """Where `text` mentions the asked-for noun ("district"), does it name one ("Imam Sahib district",
    "the district of Doshi")? A text that does not mention the noun at all is not judged here."""
    toks = re.findall(r"[\w’'-]+", unicodedata.normalize("NFKC", text))
    asked = content_words(question)
    hits = [i for i, t in enumerate(toks) if stem(t) == noun]
    if not hits:
        return True
    for i in hits:
        for j in range(max(0, i - 2), min(len(toks), i + 3)):
            t = toks[j]
            if j != i and t[:1].isupper() and t.lower() not in STOPWORDS and stem(t) not in asked:
                return True
    return False


_HOW = re.compile(r"\bhow (many|much|far|long|close|old|big|large|often|soon|near)\b", re.IGNORECASE)


def question_terms(question: str) -> frozenset[str]:
    """The content words of a question, without the words that only frame it ("how far", "which")."""
    return frozenset(w for w in content_words(_HOW.sub(" ", question)) if w not in QUESTION_WORDS)


def coverage(question: str, text: str) -> float:
    """Share of the question's terms that `text` holds (1.0 for a question with no terms)."""
    terms = question_terms(question)
    if not terms:
        return 1.0
    return len(terms & content_words(text)) / len(terms)


def focus_missing(question: str, text: str) -> frozenset[str]:
    """Names and figures the question asks about that `text` lacks. Figures are those written in digits:
    "the two sides" or "three provinces" in a question are wording, not a figure to find."""
    return frozenset((names(question) - content_words(text)) | (written_figures(question) - numbers(text)))


def written_figures(text: str) -> frozenset[str]:
    """Numbers written with digits ("June 20", "2,500"); number words are left out."""
    return frozenset(n for w in words(text) if any(c.isdigit() for c in w) for n in numbers(w))


def _negated(text: str) -> bool:
    toks = set(words(text)) | {t for t in re.findall(r"\w+n't", normalize(text))}
    return bool(toks & _NEGATION) or "n't" in normalize(text)


def negation_consistent(claim: str, evidence: str) -> bool:
    """A claim that negates must cite evidence that negates too (and the other way round is fine:
    "had not entered the city" may support "the Taliban were near the city")."""
    return not _negated(claim) or _negated(evidence)


def asked_terms(question: str) -> frozenset[str]:
    """The question's terms that are not names: what is being asked about ("population", "road")."""
    return question_terms(question) - names(question)


def numbers_in_context(claim: str, evidence: str, before: int = 1, after: int = 3) -> bool:
    """Every number in the claim appears in the evidence next to a content word it has next to it in the
    claim ("53 Taliban militants were killed" is not backed by "147 … were killed and 53 others were
    wounded")."""

    ev = _number_contexts(evidence, before, after)
    for n, ctx in _number_contexts(claim, before, after).items():
        if n not in ev:
            return False
        if ctx and ev[n] and not (ctx & ev[n]):
            return False
    return True


def _number_contexts(text: str, before: int, after: int) -> dict[str, set[str]]:
    """Each number of `text` → the content words within `before`/`after` tokens of it."""
    toks = words(text)
    out: dict[str, set[str]] = {}
    for i, tok in enumerate(toks):
        for n in numbers(tok):
            window = toks[max(0, i - before) : i] + toks[i + 1 : i + 1 + after]
            out.setdefault(n, set()).update(content_words(" ".join(window)))
    return out


def figures_share_context(a: str, b: str) -> bool:
    """Do two sentences give different figures for the same thing ("1 kilometer" / "6 miles" near
    "kilometre")? Some number only in `a` and some number only in `b` share a neighbouring word."""
    ca, cb = _number_contexts(a, 2, 2), _number_contexts(b, 2, 2)
    only_a = [ca[n] for n in ca if n not in cb]
    only_b = [cb[n] for n in cb if n not in ca]
    return any(x & y for x in only_a for y in only_b)


def answers_question(
    question: str, claim: str, cited: list[str] | tuple[str, ...], min_asked: float = 0.5
) -> bool:
    """Is a claim, with the sentences it cites, an answer to the question?

    - it holds the kind of thing asked for (a number for "how many", a date for "when", a name for "who");
    - the cited evidence holds every name and number of the question, and at least half of the other
      terms it asks about;
    - it negates only where its evidence negates, and each number sits in the same context as there.
    """
    evidence = " ".join(cited)
    asked = asked_terms(question)
    if asked and len(asked & content_words(evidence)) / len(asked) < min_asked:
        return False
    return (
        has_answer_type(claim, answer_type(question), question)
        and not focus_missing(question, evidence)
        and negation_consistent(claim, evidence)
        and numbers_in_context(claim, evidence)
    )
