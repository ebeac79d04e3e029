"""The quoted context of a short answer: the clause of a long sentence that states it (pure given the
parse), table-tested on sentences written here."""

from __future__ import annotations

import pytest

from qa.compose import stating_clause
from qa.nlp import parse

SHORT = "The bridge was closed on Tuesday after a flood, officials said."
LONG = (
    "Officials in the northern district said on Tuesday that the old stone bridge over the river, which "
    "engineers from the capital had inspected twice during the spring, was closed in 1890 after a flood "
    "damaged two of its arches and the road that led to the market."
)

MAYOR = (
    "The mayor, who had served the town for eleven years and was known for her work on the harbour, "
    "announced on Monday that the council would close the old bridge in March because its foundations "
    "had weakened."
)


@pytest.mark.parametrize(
    ("sentence", "phrase", "max_words", "expected"),
    [
        pytest.param(SHORT, "Tuesday", 25, SHORT, id="short-sentence-whole"),
        pytest.param(LONG, "1890", 200, LONG, id="limit-above-length-whole"),
        pytest.param(
            MAYOR,
            "March",
            15,
            "that the council would close the old bridge in March because its foundations had weakened",
            id="the-clause-of-the-predicate",
        ),
    ],
)
def test_stating_clause(sentence: str, phrase: str, max_words: int, expected: str) -> None:
    start = sentence.index(phrase)
    a, b = stating_clause(parse(sentence), start, start + len(phrase), max_words)
    assert sentence[a:b] == expected


@pytest.mark.parametrize("phrase", ["1890", "Tuesday", "two of its arches", "market", "Officials"])
@pytest.mark.parametrize("max_words", [6, 12, 25])
def test_the_clause_holds_the_phrase_and_keeps_to_the_limit(phrase: str, max_words: int) -> None:
    start = LONG.index(phrase)
    a, b = stating_clause(parse(LONG), start, start + len(phrase), max_words)
    assert a <= start and start + len(phrase) <= b
    words = [w for w in LONG[a:b].split() if any(c.isalnum() for c in w)]
    assert len(words) <= max(max_words, len(phrase.split())) + 1
