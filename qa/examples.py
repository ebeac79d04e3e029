"""Example questions for the chat, made from the indexed articles themselves.

Each article's leading sentences are parsed (qa/nlp.py); a sentence whose subject names someone or
something (a person, an organisation, a place, "the X district") becomes a subject question by putting a
question word in the subject's place: "<name> confirmed the bridge was closed" → "Who confirmed the
bridge was closed?"; "The <name> district is near the border" → "Which district is near the border?".
Sentences that name what the article names most often come first. A candidate is kept only when the
pipeline answers it with the name that was taken out (checked with `ask`, the model-free pipeline), so
every example is one the product answers. Nothing here knows any corpus.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from qa.lexical import content_words, fold
from qa.nlp import parse_many
from qa.types import Answer

if TYPE_CHECKING:
    from spacy.tokens import Span, Token

    from index.sentences import Sentence

# Examples shown at most, and how many of each article's leading sentences are read.
MAX_EXAMPLES = 4
LEAD_SENTENCES = 15
# Candidates tried per article before it is given up on (each costs one model-free answer).
TRIES_PER_ARTICLE = 3
# Articles read at most: a corpus of thousands of articles still shows examples at once.
MAX_ARTICLES = 40
# A question longer than this is no example anyone would click.
MAX_WORDS = 16
MIN_WORDS = 5
# Two examples that share this share of their content words ask the same thing.
SAME_QUESTION = 0.5

_WHO = frozenset({"PERSON", "ORG", "NORP"})
_NAMES = frozenset({"PERSON", "ORG", "NORP", "GPE", "LOC", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW"})
# Dependents of the verb that are left out of the question: the subject, coordination (only the first
# predicate is asked about) and punctuation.
_DROP_DEPS = frozenset({"nsubj", "nsubjpass", "csubj", "cc", "conj", "punct", "preconj"})
_QUOTES = frozenset({"“", "”", '"', "‘", "’"})
# Plural and first-person forms of the auxiliaries and "be", as a singular "who" takes them.
_SINGULAR = {"have": "has", "are": "is", "were": "was", "do": "does", "am": "is"}
# Reporting verbs make dull examples ("Who said ...?"): such sentences come last.
_REPORTING = frozenset({"say", "tell", "add", "report", "state", "announce"})


class Example(NamedTuple):
    """A candidate example: the question, the name that answers it, and the lemma of its verb."""

    question: str
    name: str
    verb: str


def _subject(verb: Token) -> Token | None:
    """The verb's nominal subject when it comes before the verb (inverted reports are skipped)."""
    for child in verb.children:
        if child.dep_ in ("nsubj", "nsubjpass") and child.i < verb.i:
            return child
    return None


def _wh(subject: Span, nouns: frozenset[str]) -> tuple[str, Span] | None:
    """The question word for a subject, and the name the answer must give; None when the subject names
    nothing (a pronoun, "some reports"). `nouns`: the common nouns of the article, lower case, so that
    "the <name> Library" is asked about as "which library" where the article also says "the library"."""
    head = subject.root
    if head.pos_ == "PRON":
        return None
    names = [e for e in subject.ents if e.label_ in _NAMES]
    ent = next((e for e in names if e.start <= head.i < e.end), names[0] if names else None)
    if ent is None:
        return None
    if head.pos_ == "NOUN" and head.i >= ent.end:
        # "the <name> district": the name modifies a common noun, which says what is asked for.
        return f"Which {head.lower_}", ent
    if len(ent) > 1 and ent[-1].lower_ in nouns:
        return f"Which {ent[-1].lower_}", ent
    if ent.label_ in _WHO:
        return "Who", ent
    return "What", ent


def _join(tokens: Sequence[Token]) -> str:
    """The tokens' text with a space wherever the sentence had one or where tokens were left out."""
    out = ""
    for prev, tok in zip([None, *tokens], tokens, strict=False):
        if prev is not None and (prev.whitespace_ or tok.i != prev.i + 1):
            out += " "
        out += tok.text
    return out


def question_from(sentence: Span, nouns: frozenset[str] = frozenset()) -> Example | None:
    """A subject question made from one parsed sentence, and the name that answers it; None when the
    sentence has no named subject before its verb, or the question would be ungrammatical ("Who
    capture"), too short or too long. A report ("<clause>, police said") is asked about its clause."""
    root = sentence.root
    if root.lemma_ in _REPORTING:
        for child in root.children:
            if child.dep_ == "ccomp" and child.i < root.i:
                found = _question(child, nouns)
                if found is not None:
                    return found
    return _question(root, nouns)


def _question(verb: Token, nouns: frozenset[str]) -> Example | None:
    if verb.pos_ not in ("VERB", "AUX"):
        return None
    subj = _subject(verb)
    if subj is None:
        return None
    found = _wh(verb.doc[subj.left_edge.i : subj.right_edge.i + 1], nouns)
    if found is None:
        return None
    wh, answer = found
    dropped = {t.i for t in subj.subtree}
    for child in verb.children:
        if child.dep_ in _DROP_DEPS:
            dropped |= {t.i for t in child.subtree}
    # Only what follows the subject: an opening clause ("On Monday, ...") is left out with it.
    keep = [
        t for t in verb.subtree if t.i > subj.right_edge.i and t.i not in dropped and t.text not in _QUOTES
    ]
    if not keep:
        return None
    first = keep[0]
    if wh == "Who":
        # "Who" takes a singular verb: "have taken" → "has taken"; a plural present verb is skipped.
        if first.tag_ == "VBP" and first.lower_ not in _SINGULAR:
            return None
        text = _SINGULAR.get(first.lower_, first.text) + (" " if len(keep) > 1 else "") + _join(keep[1:])
    else:
        text = _join(keep)
    text = f"{wh} {text.strip().rstrip(',;:-').strip()}?"
    n = len(text.split())
    if not MIN_WORDS <= n <= MAX_WORDS:
        return None
    return Example(text, answer.text, verb.lemma_)


def _same(a: str, b: str) -> bool:
    wa, wb = content_words(a), content_words(b)
    return bool(wa and wb) and len(wa & wb) / len(wa | wb) >= SAME_QUESTION


def _answered(answer: Answer, name: str) -> bool:
    """Did the pipeline answer with the name the question took out?"""
    if answer.refused:
        return False
    short, want = fold(answer.short_answer or answer.answer), fold(name)
    return bool(short) and (
        want in short or short in want or bool(content_words(short) & content_words(want))
    )


def candidates(
    files: Sequence[str], sentences_of: Callable[[str], Sequence[Sentence]]
) -> dict[str, list[Example]]:
    """Per article, its candidate examples, best first: sentences that name what the article names most
    often, earlier ones first, reports ("X said ...") last."""
    out: dict[str, list[Example]] = {}
    for file in files[:MAX_ARTICLES]:
        lead = list(sentences_of(file))[:LEAD_SENTENCES]
        if not lead:
            continue
        docs = parse_many([s.text for s in lead])
        counts = Counter(fold(e.text) for d in docs for e in d.ents if e.label_ in _NAMES)
        nouns = frozenset(t.text for d in docs for t in d if t.pos_ == "NOUN" and t.text.islower())
        scored: list[tuple[float, Example]] = []
        for pos, doc in enumerate(docs):
            for sent in doc.sents:
                q = question_from(sent, nouns)
                if q is None:
                    continue
                weight = sum(counts[fold(e.text)] for e in sent.ents if e.label_ in _NAMES)
                if q.verb in _REPORTING:
                    weight -= 100
                scored.append((weight - 0.5 * pos, q))
        scored.sort(key=lambda x: -x[0])
        out[file] = [q for _, q in scored]
    return out


def build_examples(
    files: Sequence[str],
    sentences_of: Callable[[str], Sequence[Sentence]],
    ask: Callable[[str], Answer],
    limit: int = MAX_EXAMPLES,
) -> list[str]:
    """Up to `limit` example questions, taking one per article in turn, each answered by `ask` with the
    name it took out; no two have the same answer or ask the same thing."""
    queues = candidates(files, sentences_of)
    tries = dict.fromkeys(queues, 0)
    chosen: list[str] = []
    answers: set[str] = set()
    while len(chosen) < limit and queues:
        for file in list(queues):
            queue = queues[file]
            while queue and tries[file] < TRIES_PER_ARTICLE:
                question, name, _ = queue.pop(0)
                if fold(name) in answers or any(_same(question, c) for c in chosen):
                    continue  # another example asks it already: costs no try
                tries[file] += 1
                if _answered(ask(question), name):
                    chosen.append(question)
                    answers.add(fold(name))
                    break
            if not queue or tries[file] >= TRIES_PER_ARTICLE:
                del queues[file]
            if len(chosen) >= limit:
                break
    return chosen
