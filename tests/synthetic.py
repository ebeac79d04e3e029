"""A deterministic synthetic corpus ~1000× the seeds, for the benchmark (tests/bench.py).

Embedding 100,000 sentences at ~150/s would take over ten minutes, so the corpus is built in two layers:

1. **Base sentences** (a few thousand, all distinct): seed evidence sentences recombined with a fixed
   `random.Random(seed)`: a clause of one sentence joined to a clause of another at a comma, the seeds'
   names swapped for other seed names or for generated ones, numbers changed. Each is embedded for real.
2. **Records** (100,000): each joins two different base sentences, `"<base a> <base b>"`; its vector is
   the normalised sum of the two base vectors (mean pooling makes the real embedding of a concatenation
   close to that, not equal to it). Records are grouped into articles of `per_article` and written, with
   their spans, as .txt files under the output folder; the store receives them through
   `Store.put_articles` with each article's content hash as its version, so a later `index_corpus` over
   the folder sees every article as unchanged.

So a record is a two-sentence unit (~290 characters) where a seed sentence is one: BM25 documents are
longer, and dense neighbourhoods are denser (with 2,000 bases, each is in ~100 records), than in real news.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.sentences import Sentence

_NAME = re.compile(r"\b[A-Z][a-z]{2,}(?:-[A-Z][a-z]+)?\b")
_NUMBER = re.compile(r"\b\d+(?:,\d{3})*\b")
_SYLLABLES = (
    "ka",
    "ra",
    "bad",
    "zan",
    "mir",
    "tol",
    "shi",
    "dar",
    "gul",
    "han",
    "nur",
    "pa",
    "sar",
    "ba",
    "mo",
)


def _made_up_name(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def base_sentences(seed_sentences: Sequence[str], count: int, seed: int = 20240611) -> list[str]:
    """`count` distinct sentences recombined from the seeds' sentences, names and numbers."""
    rng = random.Random(seed)
    seeds = [s for s in seed_sentences if len(s.split()) >= 6]
    names = sorted({m.group() for s in seeds for m in _NAME.finditer(s)})
    names += [_made_up_name(rng) for _ in range(4 * len(names))]
    out: dict[str, None] = {}
    while len(out) < count:
        a, b = rng.choice(seeds), rng.choice(seeds)
        if "," in a and "," in b and rng.random() < 0.6:
            text = a[: a.index(",")] + "," + b[b.index(",") + 1 :]
        else:
            text = a
        text = _NAME.sub(lambda m: rng.choice(names) if rng.random() < 0.7 else m.group(), text)
        text = _NUMBER.sub(lambda m: str(rng.randint(2, 5000)), text)
        out.setdefault(text.strip(), None)
    return list(out)


@dataclass
class SyntheticArticle:
    """One generated article: its file name, text, content hash, sentences (records) and their vectors."""

    file: str
    text: str
    version: str
    sentences: list[Sentence]
    vectors: np.ndarray


def articles(
    bases: Sequence[str],
    base_vectors: np.ndarray,
    records: int,
    per_article: int = 40,
    seed: int = 20240611,
) -> Iterator[SyntheticArticle]:
    """`records` two-base records in articles of `per_article`, deterministic for a given seed."""
    rng = random.Random(seed + 1)
    n_bases = len(bases)
    for a, first in enumerate(range(0, records, per_article)):
        file = f"syn_{a:05d}.txt"
        pairs = []
        for _ in range(min(per_article, records - first)):
            i = rng.randrange(n_bases)
            j = (i + 1 + rng.randrange(n_bases - 1)) % n_bases  # j != i
            pairs.append((i, j))
        texts = [f"{bases[i]} {bases[j]}" for i, j in pairs]
        body = "\n".join(texts) + "\n"
        sentences, pos = [], 0
        for n, t in enumerate(texts, start=1):
            sentences.append(Sentence(file, n, pos, pos + len(t), t))
            pos += len(t) + 1
        idx_i = np.fromiter((i for i, _ in pairs), dtype=np.int64)
        idx_j = np.fromiter((j for _, j in pairs), dtype=np.int64)
        vecs = base_vectors[idx_i] + base_vectors[idx_j]
        vecs /= np.clip(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12, None)
        version = hashlib.sha256(body.encode("utf-8")).hexdigest()
        yield SyntheticArticle(file, body, version, sentences, vecs.astype(np.float32))


def write_corpus(
    out_dir: Path,
    arts: Iterator[SyntheticArticle],
    put: Callable[[list[tuple[str, str, Sequence[Sentence], np.ndarray]]], None],
    batch_records: int = 5000,
) -> tuple[int, int]:
    """Write each article's file under `out_dir` and hand the articles to `put` in batches of about
    `batch_records` records. Returns (articles, records)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    batch: list[tuple[str, str, Sequence[Sentence], np.ndarray]] = []
    n_articles = n_records = pending = 0
    for art in arts:
        (out_dir / art.file).write_text(art.text, "utf-8")
        batch.append((art.file, art.version, art.sentences, art.vectors))
        n_articles += 1
        n_records += len(art.sentences)
        pending += len(art.sentences)
        if pending >= batch_records:
            put(batch)
            batch, pending = [], 0
    if batch:
        put(batch)
    return n_articles, n_records
