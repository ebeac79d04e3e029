"""What a question asks for, read from its parse: the wh-word, the expected answer type, its focus words,
its predicate and the noun of a "which X" question. Pure given the parse; table-tested.

Answer types are spaCy's OntoNotes entity labels. The table from question form to labels is general
English (classic factoid QA typing), not a list of any corpus's words.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qa import kinds
from qa.contrary import Contrasts, contrasts
from qa.kinds.base import Kind
from qa.lexical import fold
from qa.lexicon import names_a_person, synonymous
from qa.nlp import content_keys, is_content, keys, negated

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

# Parts of speech whose words may be matched by a synonym.
_SYNONYM_TAGS = frozenset({"VERB", "NOUN", "ADJ"})
_NOUNS = ("NOUN", "PROPN")
_WH = frozenset({"who", "whom", "whose", "what", "which", "when", "where", "why", "how"})


def _asks_who_someone_is(toks: Sequence[Token], wh_i: int | None) -> bool:
    """ "Who is/was <name>?": the copula right after the wh-word and, after it, only a named entity."""
    if wh_i is None or wh_i + 2 >= len(toks) or toks[wh_i + 1].lemma_ != "be":
        return False
    rest = [t for t in toks[wh_i + 2 :] if not t.is_punct]
    return bool(rest) and all(t.ent_type_ in ("PERSON", "ORG", "NORP", "GPE") for t in rest)


@dataclass(frozen=True)
class Question:
    """A parsed question."""

    text: str
    wh: str  # the question word ("who", "when", "how many", ...) or "" for a yes/no question
    kind: Kind
    labels: frozenset[str]  # entity labels that fit the answer; empty: any span
    focus: frozenset[str]  # match keys of the content words (without the question and type words)
    names: frozenset[str]  # folded texts of the question's named entities
    proper: frozenset[str]  # those that name something (people, places, organisations, events) or a figure
    predicate: frozenset[str]  # match keys of the main content verb, empty when there is none
    head: frozenset[str]  # match keys of the noun of "which X" / "what X", empty when none
    negated: bool
    subject_asked: bool  # the wh-word is the subject ("who reviewed ...?")
    # match keys of the verb whose object the wh-word is ("what did X say / promise / complain about?"),
    # stop words included: what X said is the clause that verb takes in the evidence
    object_of: frozenset[str] = frozenset()
    # match keys of the subject the question gives ("Henk Jansen" of "what did Henk Jansen say?"): when
    # the wh-word is not the subject, the subject is known, not asked
    given: frozenset[str] = frozenset()
    # the lemma of that noun ("civilian" of "how many civilians"), "" when none
    head_lemma: str = ""
    # "What was the cause of X?": the noun asked about (its lemma), when it stands for the predicate
    attribute: str = ""
    # "what caused X": the answer is what made X happen, a thing or a reason clause; `predicate` is X
    cause: bool = False
    # (lemma, coarse tag, match keys) of each focus word that a synonym may stand for
    senses: tuple[tuple[str, str, frozenset[str]], ...] = ()
    # each of `proper` with the words the question says it in ("France" for "france")
    said: tuple[tuple[str, str], ...] = ()
    # what a sentence may contradict: words with antonyms, counted nouns (qa/contrary.py)
    contrasts: Contrasts = Contrasts()
    # "what kind / type / sort of X": a described X answers ("a diesel engine")
    sort: bool = False

    def hits(self, tok: Token) -> frozenset[str]:
        """The focus keys a sentence token matches: its own keys, or those of a focus word it shares a
        sense with in WordNet ("injured" for "hurt", "operates" for "runs")."""
        direct = keys(tok) & self.focus
        if direct or tok.pos_ not in _SYNONYM_TAGS:
            return direct
        out: frozenset[str] = frozenset()
        for lemma, tag, ks in self.senses:
            if tag == tok.pos_ and synonymous(lemma, tok.lemma_, tag):
                out |= ks & self.focus
        return out

    def held(self, tokens: Iterable[Token]) -> frozenset[str]:
        """The focus keys that the content tokens hold, directly or through a synonym."""
        out: set[str] = set()
        for t in tokens:
            if is_content(t):
                out |= self.hits(t)
        return frozenset(out)


@dataclass(frozen=True)
class Reading:
    """What one parsed sentence holds of one question, read once and shared by every candidate span of
    that sentence (a sentence has tens of them; each used to walk the sentence four times)."""

    hits: tuple[frozenset[str], ...]  # per token: the focus keys it matches (`Question.hits`)
    matched: tuple[int, ...]  # content tokens that match a focus word, in order
    held: frozenset[str]  # the focus keys the content tokens hold (`Question.held`)
    predicate: tuple[int, ...]  # tokens that are the question's predicate (same keys, or a synonym)
    folded: str  # the sentence's folded text


@functools.lru_cache(maxsize=4096)
def read(q: Question, doc: Doc) -> Reading:
    """The sentence read for the question (cached per question and parse; parses are cached too)."""
    hits = tuple(q.hits(t) for t in doc)
    matched = tuple(t.i for t in doc if hits[t.i] and is_content(t))
    held = frozenset(k for i in matched for k in hits[i])
    pred = (
        tuple(t.i for t in doc if t.pos_ in ("VERB", "NOUN", "ADJ") and (keys(t) | hits[t.i]) & q.predicate)
        if q.predicate
        else ()
    )
    return Reading(hits, matched, held, pred, fold(doc.text))


def frame(doc: Doc) -> Question:
    """Stage 3, read the question: its form, read once from its parse into the typed frame every later
    stage receives."""
    text = doc.text
    toks = list(doc)
    wh_i = next((i for i, t in enumerate(toks) if t.lower_ in _WH), None)
    wh = toks[wh_i].lower_ if wh_i is not None else ""
    nxt = toks[wh_i + 1] if wh_i is not None and wh_i + 1 < len(toks) else None
    kind: Kind = "thing"
    labels: frozenset[str] = frozenset()
    typed_head: frozenset[str] = frozenset()
    head_tok = None
    sort = False
    skip: set[int] = {wh_i} if wh_i is not None else set()
    if wh in kinds.WH:
        kind, labels = kinds.WH[wh]
        if kind == "person" and _asks_who_someone_is(toks, wh_i):
            # "Who is Ada Lovelace?" asks what the name is (a role, a description), not for another name.
            kind, labels = "identity", frozenset()
    elif wh == "how" and nxt is not None:
        asked = kinds.by_how(nxt.lower_)
        if asked is not None:
            wh = f"how {nxt.lower_}"
            skip.add(nxt.i)
            kind, labels = asked
            if nxt.lower_ in ("many", "much"):
                # "how many American troops": the counted noun, which the number must count.
                head_tok = next((t for t in toks[nxt.i + 1 : nxt.i + 4] if t.pos_ == "NOUN"), None)
        else:
            kind = "manner"
    elif wh in ("what", "which") and nxt is not None:
        # "what year", "which three provinces", "what kind of river": the first noun after the wh-word.
        for t in toks[wh_i + 1 : wh_i + 5] if wh_i is not None else []:
            if t.pos_ in ("NOUN", "PROPN") and t.dep_ not in ("nsubj",) or t.pos_ == "NOUN":
                head_tok = t
                break
            if t.pos_ in ("VERB", "AUX"):
                # "What is the population of the city?": the attribute after the copula is what is asked.
                attr = next((c for c in t.children if c.dep_ in ("attr", "nsubj") and c.pos_ == "NOUN"), None)
                if t.lemma_ == "be" and attr is not None and attr.i > t.i:
                    head_tok = attr
                break
        # "which White House spokesperson": the noun the phrase names, not a word that modifies it
        while head_tok is not None and head_tok.dep_ == "compound" and head_tok.head.pos_ in _NOUNS:
            head_tok = head_tok.head
        if (
            head_tok is not None
            and head_tok.lower_ in ("kind", "type", "sort", "name")
            and head_tok.i + 2 < len(toks)
        ):
            sort = head_tok.lower_ != "name"
            skip.add(head_tok.i)
            head_tok = next((t for t in toks[head_tok.i + 1 : head_tok.i + 4] if t.pos_ == "NOUN"), head_tok)
        if head_tok is not None:
            typed = kinds.by_noun(head_tok.lemma_.lower())
            if typed:
                kind, labels = typed
                skip.add(head_tok.i)  # "what year": the type, not a word the sentence must hold
                typed_head = keys(head_tok)
            elif head_tok.pos_ == "NOUN" and head_tok.dep_ != "poss" and names_a_person(head_tok.lemma_):
                # "which spokesperson", "what official": a person named (the noun's first WordNet sense is
                # a kind of person); the noun stays a word to find, it often stands beside the name
                kind, labels = "person", frozenset({"PERSON"})
    elif wh == "":
        kind = "yesno"
    focus = content_keys(t for t in toks if t.i not in skip and t.lower_ not in _WH)
    root = next((t for t in toks if t.dep_ == "ROOT"), None)
    verb = None
    if root is not None:
        if root.pos_ == "VERB" and is_content(root):
            verb = root
        else:  # "What was the reason the dam failed?": a content verb below an auxiliary root
            verb = next((t for t in root.subtree if t.pos_ == "VERB" and is_content(t)), None)
    # "What was the cause of the fire?": with no content verb, the asked noun is the predicate ("the
    # fire was caused by …", "… was the cause")
    pred = keys(verb) if verb is not None else _noun_predicate(head_tok, skip)
    cause = False
    if wh == "what" and verb is not None and _asks_cause(toks[wh_i] if wh_i is not None else None, verb):
        # "What caused the delay?" asks what made it happen: a thing ("a landslide") or a reason ("because
        # …"); the caused event is the predicate ("… was delayed because …", "a landslide derailed …"),
        # the clause the verb takes or else its object
        cause = True
        event = next((c for c in verb.children if c.dep_ in ("ccomp", "xcomp")), None) or next(
            (c for c in verb.children if c.dep_ == "dobj"), None
        )
        pred = keys(event) | pred if event is not None else pred
    subject_asked = (
        wh_i is not None
        and toks[wh_i].dep_ in ("nsubj", "nsubjpass")
        or (head_tok is not None and head_tok.dep_ in ("nsubj", "nsubjpass"))
    )
    return Question(
        text=text,
        wh=wh,
        kind=kind,
        labels=labels,
        focus=focus,
        names=frozenset(fold(e.text) for e in doc.ents),
        proper=frozenset(
            fold(e.text) for e in doc.ents if e.label_ in kinds.PROPER or any(ch.isdigit() for ch in e.text)
        ),
        said=tuple((fold(e.text), e.text) for e in doc.ents),
        predicate=pred,
        cause=cause,
        attribute=head_tok.lemma_.lower() if head_tok is not None and verb is None and pred else "",
        head=keys(head_tok) if head_tok is not None and head_tok.i not in skip else typed_head,
        head_lemma=head_tok.lemma_.lower() if head_tok is not None and head_tok.pos_ == "NOUN" else "",
        negated=root is not None and negated(root) or verb is not None and negated(verb),
        subject_asked=subject_asked,
        object_of=_object_of(toks[wh_i] if wh_i is not None else None),
        given=frozenset() if subject_asked else _given_subject(verb or root, skip),
        senses=tuple(
            (t.lemma_.lower(), t.pos_, keys(t))
            for t in toks
            if t.i not in skip and t.lower_ not in _WH and t.pos_ in _SYNONYM_TAGS and is_content(t)
        ),
        contrasts=contrasts(toks, skip | {t.i for t in toks if t.lower_ in _WH}),
        sort=sort,
    )


def _asks_cause(wh: Token | None, verb: Token) -> bool:
    """Is the wh-word the subject of "cause" (or a verb that shares its first senses in WordNet)?"""
    return (
        wh is not None
        and wh.dep_ == "nsubj"
        and wh.head.i == verb.i
        and synonymous(verb.lemma_, "cause", "VERB")
    )


def _noun_predicate(head: Token | None, skip: set[int]) -> frozenset[str]:
    """The keys of the noun a copula question asks about ("the cause" of "what was the cause of X"), when
    it is no type word ("what year") and something hangs on it ("of the fire")."""
    if head is None or head.i in skip or head.pos_ != "NOUN" or head.dep_ not in ("attr", "nsubj"):
        return frozenset()
    if not any(c.dep_ == "prep" for c in head.children):
        return frozenset()
    return keys(head)


def _given_subject(verb: Token | None, skip: set[int]) -> frozenset[str]:
    """The content keys of the verb's subject, when the question states it."""
    subj = next((c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")), None) if verb else None
    if subj is None or subj.i in skip or subj.lower_ in _WH:
        return frozenset()
    return content_keys(subj.subtree)


def _object_of(wh: Token | None) -> frozenset[str]:
    """The keys of the verb the wh-word is the object of, directly or through its preposition."""
    if wh is None:
        return frozenset()
    verb = (
        wh.head.head
        if wh.dep_ == "pobj" and wh.head.dep_ == "prep"
        else wh.head
        if wh.dep_ in ("dobj", "nsubjpass")  # "what is expected": the passive's subject is its object
        else None
    )
    return keys(verb) if verb is not None and verb.pos_ == "VERB" else frozenset()
