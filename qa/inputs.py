"""The question as the pipeline reads it: cleaned, bounded, and made standalone when it is a follow-up."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from index.errors import InputError
from qa.lexical import content_words
from qa.settings import Settings

# Control characters (C0 but tab, line feed and carriage return; DEL; C1) and lone surrogates (JSON allows
# "\ud800"; nothing downstream can encode it): replaced by spaces in the question here and in earlier turns
# (qa/service.py clean_history, which keeps their line breaks). The one definition of both.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# Words that lean on an earlier turn ("and who confirmed it?"): pronouns and deictic adverbs.
_LEANING = re.compile(
    r"\b(it|its|they|them|their|this|that|these|those|he|she|his|her|there|then)\b", re.IGNORECASE
)


def clean_question(question: str, settings: Settings) -> str:
    """Strip control characters and lone surrogates, fold full-width forms; reject empty or huge input."""
    if not isinstance(question, str):
        raise InputError("The question must be text.")
    q = CONTROL.sub(" ", unicodedata.normalize("NFKC", question))
    q = re.sub(r"\s+", " ", q).strip()  # tab, line feed and carriage return too
    if not q or not re.search(r"\w", q):
        raise InputError("The question is empty: type a question about the articles.")
    if len(q) > settings.answer.max_question_chars:
        raise InputError(
            f"The question is {len(q)} characters long; the limit is {settings.answer.max_question_chars}. "
            "Ask a shorter question."
        )
    return q


def rewrite_followup(question: str, history: Sequence[dict[str, str]] | None) -> str:
    """Make a follow-up standalone by carrying the previous question when it leans on it.

    "and who confirmed it?" after "Which bridge was closed?" becomes
    "and who confirmed it? (about: Which bridge was closed?)". Deterministic: a 135M model
    rewrites worse than this.
    """
    prev = [h.get("content", "") for h in (history or []) if h.get("role") == "user" and h.get("content")]
    if not prev:
        return question
    if (
        _LEANING.search(question)
        or len(content_words(question)) < 2
        or question.lower().startswith(("and ", "what about"))
    ):
        return f"{question} (about: {prev[-1]})"
    return question
