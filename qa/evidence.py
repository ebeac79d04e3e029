"""Stage 2, gather evidence: the retrieved groups' lead sentences, parsed once, in one batch with the
question, including the wider pool that rival versions of an answer are looked for in.

Everything a later stage reads of the evidence is here, so no stage calls back into the retriever.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from index.sentences import Sentence
from qa.lexical import fold
from qa.nlp import content_keys, parse_many
from qa.retrieve import Group

if TYPE_CHECKING:
    from spacy.tokens import Doc


class Corpus(Protocol):
    """What gathering reads of the index besides the retrieved groups (qa.retrieve.Retriever)."""

    def neighbours(self, s: Sentence) -> tuple[Sentence | None, Sentence | None]: ...

    def file_text(self, file: str) -> str: ...


@dataclass(frozen=True)
class Evidence:
    """One evidence group's lead sentence, parsed, with its rank and the words of its context (the
    sentence before it in its file), which can name what the sentence only refers to."""

    group: Group
    doc: Doc
    rank: int
    context: frozenset[str] = frozenset()
    file_text: str = ""  # the folded text of the sentence's whole file, for the question's names
    top_sim: float = 0.0  # the best similarity of any evidence to the question

    @property
    def sentence(self) -> Sentence:
        """The lead sentence."""
        return self.group.lead.sentence


@dataclass(frozen=True)
class Gathered:
    """The question's parse, the evidence the answer is chosen from (`pool`) and the further evidence
    that may only hold rival versions of it (`wider`)."""

    question: Doc
    pool: list[Evidence]
    wider: list[Evidence]


def gather(corpus: Corpus, groups: Sequence[Group], question: str, pool: int, wider: int) -> Gathered:
    """Parse the first `max(pool, wider)` groups' lead sentences, the sentence before each and the
    question in one batch (one batch of many texts parses 3× faster a text than one by one)."""
    chosen = list(groups[: max(pool, wider)])
    prevs = [corpus.neighbours(g.lead.sentence)[0] for g in chosen]
    texts = [g.lead.sentence.text for g in chosen] + [p.text for p in prevs if p is not None]
    docs = parse_many([*texts, question])
    by_text = dict(zip(texts, docs, strict=False))
    top = max((h.similarity for g in chosen[:pool] for h in g.hits), default=0.0)
    out = []
    for rank, (g, prev) in enumerate(zip(chosen, prevs, strict=True)):
        ctx = content_keys(by_text[prev.text]) if prev is not None else frozenset()
        whole = fold(corpus.file_text(g.lead.sentence.file))
        out.append(Evidence(g, by_text[g.lead.sentence.text], rank, ctx, whole, top))
    return Gathered(docs[-1], out[:pool], out[pool:])
