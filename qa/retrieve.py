"""Hybrid retrieval: dense (Chroma) + BM25 (bm25s), fused by sentence id with reciprocal rank fusion.

Fusion is by sentence id, never by text: the same sentence in two articles is two citations. After fusion,
near-identical sentences from different files are grouped, so an answer can cite every article that
reports a fact.
"""

from __future__ import annotations

import math
import os
import shutil
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from index import mapped
from index.embed import Embedder, make_embedder
from index.errors import IndexLockedError
from index.sentences import Sentence
from index.snapshot import WRITING, Committed
from index.store import Store
from qa.lexical import content_words, numbers
from qa.settings import Settings

BM25_FORMAT = 2  # changes with bm25_tokens, so reader files keep no index of other tokens


@dataclass(frozen=True)
class Hit:
    """A retrieved sentence with its fused score and its cosine similarity to the question."""

    sentence: Sentence
    score: float
    similarity: float


@dataclass
class Group:
    """Near-identical sentences (same content words, same numbers) from different articles, best first."""

    hits: list[Hit]

    @property
    def lead(self) -> Hit:
        """The best-ranked sentence of the group."""
        return self.hits[0]

    @property
    def files(self) -> list[str]:
        """Distinct files carrying the sentence."""
        return list(dict.fromkeys(h.sentence.file for h in self.hits))


@dataclass
class Retrieval:
    """The fused hits and groups for one question, with per-stage timings in ms."""

    hits: list[Hit]
    groups: list[Group]
    timings: dict[str, float] = field(default_factory=dict)


def bm25_tokens(text: str) -> list[str]:
    """BM25 tokens: stemmed content words plus numbers."""
    return sorted(content_words(text)) + sorted(numbers(text))


def near_identical(a: str, b: str, min_jaccard: float) -> bool:
    """Same fact in other words? Content-word Jaccard ≥ `min_jaccard` and exactly the same numbers."""
    if numbers(a) != numbers(b):
        return False
    wa, wb = content_words(a), content_words(b)
    if not wa or not wb:
        return a.strip() == b.strip()
    return len(wa & wb) / len(wa | wb) >= min_jaccard


def group_hits(hits: Sequence[Hit], min_jaccard: float) -> list[Group]:
    """Group near-identical sentences from different files (`near_identical`), keeping rank order of each
    group's lead."""
    groups: list[Group] = []
    for h in hits:
        for g in groups:
            if h.sentence.file not in g.files and near_identical(
                g.lead.sentence.text, h.sentence.text, min_jaccard
            ):
                g.hits.append(h)
                break
        else:
            groups.append(Group([h]))
    return groups


def _bm25_index(
    table: mapped.SentenceTable, previous: mapped.SentenceTable | None = None
) -> tuple[Any, dict[str, int], np.ndarray]:
    """bm25s's index of the table's sentences, memory-mapped from `<table>/bm25-N` (written there first when
    no reader has yet, with the tokens of articles unchanged since `previous` taken from its index), with its
    vocabulary and the column pointers that give each token's document count."""
    import logging

    import bm25s

    logging.getLogger("bm25s").setLevel(logging.ERROR)  # it logs at debug level with its own handler
    path = table.path / f"bm25-{BM25_FORMAT}"
    if not len(table):
        return None, {}, np.zeros(1, np.int64)
    if not (path / "params.index.json").exists():
        known = _tokens_of_unchanged(table, previous)
        index = bm25s.BM25()
        corpus = [known.get(i) or bm25_tokens(s.text) or ["_"] for i, s in enumerate(table)]
        index.index(corpus, show_progress=False)
        del corpus, known
        tmp = path.with_name(f".{path.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        index.save(tmp, show_progress=False)
        try:
            os.rename(tmp, path)
        except OSError:  # another reader saved it first
            shutil.rmtree(tmp, ignore_errors=True)
    index = bm25s.BM25.load(path, mmap=True)
    return index, dict(index.vocab_dict), index.scores["indptr"]


def _tokens_of_unchanged(
    table: mapped.SentenceTable, previous: mapped.SentenceTable | None
) -> dict[int, list[str]]:
    """Row → BM25 tokens, for the rows of articles at the same version in `previous`, read back from its
    saved index (a sentence's tokens are a set, so its row of the index holds all of them)."""
    path = previous.path / f"bm25-{BM25_FORMAT}" if previous is not None else None
    if previous is None or path is None or not (path / "params.index.json").exists():
        return {}
    import bm25s

    old = bm25s.BM25.load(path, mmap=True)
    words = {v: w for w, v in old.vocab_dict.items()}
    indptr = np.asarray(old.scores["indptr"])
    docs = np.asarray(old.scores["indices"])
    token_of_entry = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    order = np.argsort(docs, kind="stable")
    by_doc = token_of_entry[order]
    bounds = np.searchsorted(docs[order], np.arange(len(previous) + 1))
    out: dict[int, list[str]] = {}
    for file, version in table.manifest.items():
        if previous.manifest.get(file) != version:
            continue
        first, end = table.range_of(file)
        old_first, old_end = previous.range_of(file)
        if end - first != old_end - old_first:
            continue
        for j in range(end - first):
            d = old_first + j
            out[first + j] = [words[int(t)] for t in by_doc[bounds[d] : bounds[d + 1]]]
    return out


def rrf(rankings: Sequence[Sequence[str]], k: int) -> dict[str, float]:
    """Reciprocal rank fusion of id rankings: score(id) = Σ 1 / (k + rank)."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, sid in enumerate(ranking, start=1):
            scores[sid] = scores.get(sid, 0.0) + 1.0 / (k + rank)
    return scores


class Retriever:
    """Dense + BM25 over the committed sentences of the index. Reloads when the index changes.

    Nothing per sentence is held in RAM: the sentences and their vectors are the memory-mapped reader files
    of index/mapped.py, read by id as they are asked for, and BM25 is bm25s's saved index, memory-mapped
    from the same folder. Both are written once per committed index (by the first reader that needs them)
    and reused by every later load, in any process. Dense search is one Chroma query that returns only ids
    and distances; whether the index changed is one small read (the store's generation token).
    """

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(settings.index, settings.llm)
        self.store = Store(settings.index, self.embedder.name, self.embedder.dim)
        self._manifest: dict[str, str] = {}
        self._generation: str | None = None
        self._refresh_ms: float | None = None
        self._load()

    def _load(self) -> None:
        self._generation = self.store.generation()  # before the manifest: a commit after it shows next time
        table = mapped.open_table(self.settings.index, self.embedder.name, self.store.manifest())
        previous, written = None, table is None
        if table is None:
            table, previous = self._write_table()
        self.store.remember(Committed(table.manifest, table, table.vectors))
        self._manifest = dict(table.manifest)
        self._table = table
        self.sentences: Sequence[Sentence] = table
        self.vectors = table.vectors
        self._file_text: dict[str, str] = {}
        self._bm25, self._vocab, self._df_ptr = _bm25_index(table, previous)
        if written:  # the earlier reader files are read no more (a process that maps them keeps them)
            mapped.prune(self.settings.index, keep=table.path.name)

    def _write_table(self) -> tuple[mapped.SentenceTable, mapped.SentenceTable | None]:
        """New reader files for the committed index: the articles unchanged since the reader files written
        last are copied from them, the others read from the store. Returns them and the earlier ones."""
        previous = mapped.latest(self.settings.index)
        held = previous.manifest if previous is not None else {}
        writer = mapped.Writer(self.settings.index, self.embedder.dim)
        try:
            manifest = self.store.read_committed(
                lambda page: writer.restart() if page is None else writer.add(page), held
            )
            if manifest is None:
                raise IndexLockedError(WRITING)
            if previous is not None:
                writer.copy(previous, sorted(f for f, v in manifest.items() if held.get(f) == v))
        except BaseException:
            writer.abandon()
            raise
        return writer.finish(self.embedder.name, manifest), previous

    def refresh(self) -> None:
        """Reload if another process re-indexed since we loaded. Its cost shows as `refresh_ms` in the
        next retrieval's timings."""
        t0 = time.perf_counter()
        generation = self.store.generation()
        if generation is None or generation != self._generation:
            if self.store.manifest() != self._manifest:
                self._load()
            else:
                self._generation = generation
        self._refresh_ms = (time.perf_counter() - t0) * 1e3

    def article_sizes(self) -> dict[str, int]:
        """The committed articles this retriever answers from: file → evidence sentences."""
        return {f: end - first for f in self._manifest for first, end in [self._table.range_of(f)]}

    def idf(self, key: str) -> float:
        """Inverse document frequency of a stemmed word over the indexed sentences (a word the corpus
        never uses gets the highest value)."""
        n = len(self.sentences)
        v = self._vocab.get(key)
        df = int(self._df_ptr[v + 1] - self._df_ptr[v]) if v is not None else 0
        return math.log((n + 1) / (df + 0.5))

    def sentence(self, sid: str) -> Sentence | None:
        """A committed sentence by id."""
        i = self._table.position(sid)
        return self._table[i] if i is not None else None

    def neighbours(self, s: Sentence) -> tuple[Sentence | None, Sentence | None]:
        """The evidence sentences just before and after `s` in its file (boilerplate is not indexed)."""
        i = self._table.position(s.id)
        if i is None:
            return None, None
        first, end = self._table.range_of(s.file)
        prev = self._table[i - 1] if i > first else None
        nxt = self._table[i + 1] if i + 1 < end else None
        return prev, nxt

    def file_text(self, file: str) -> str:
        """All evidence sentences of one file joined (cached per load)."""
        if file not in self._file_text:
            self._file_text[file] = " ".join(s.text for s in self.file_sentences(file))
        return self._file_text[file]

    def file_sentences(self, file: str) -> list[Sentence]:
        """All committed evidence sentences of one file, in order."""
        first, end = self._table.range_of(file)
        return self._table[first:end]

    def retrieve(self, question: str, k: int | None = None) -> Retrieval:
        """Fused hits (up to `settings.retrieval.candidates`) and their groups, best first."""
        n = k or self.settings.retrieval.candidates
        t: dict[str, float] = {}
        t0 = time.perf_counter()
        qvec = self.embedder.embed([question])[0]
        t1 = time.perf_counter()
        pos: dict[str, int] = {}
        dense: list[tuple[str, float]] = []
        for sid, similarity in self.store.query_ids(qvec, n, self._manifest):
            if (i := self._table.position(sid)) is not None:
                pos[sid] = i
                dense.append((sid, similarity))
        t2 = time.perf_counter()
        q_tokens = [w for w in bm25_tokens(question) if w in self._vocab]
        bm25_ids: list[str] = []
        if q_tokens and self.sentences:
            docs, scores = self._bm25.retrieve(
                [q_tokens], k=min(n, len(self.sentences)), show_progress=False, n_threads=1
            )
            for d, sc in zip(docs[0], scores[0], strict=True):
                if sc > 0:
                    bm25_ids.append(self._table.sid(int(d)))
                    pos[bm25_ids[-1]] = int(d)
        t3 = time.perf_counter()
        dense_ids = [sid for sid, _ in dense]
        fused = rrf([dense_ids, bm25_ids], self.settings.retrieval.rrf_k)
        sims = dict(dense)
        hits = []
        for sid, score in sorted(fused.items(), key=lambda kv: (-kv[1], kv[0])):
            i = pos[sid]
            sim = sims.get(sid)
            if sim is None:
                sim = float(self._table.vector(i) @ qvec)
            hits.append(Hit(self._table[i], score, sim))
        groups = group_hits(hits, self.settings.retrieval.group_jaccard)
        t4 = time.perf_counter()
        t.update(
            embed_ms=(t1 - t0) * 1e3,
            dense_ms=(t2 - t1) * 1e3,
            bm25_ms=(t3 - t2) * 1e3,
            fuse_ms=(t4 - t3) * 1e3,
            retrieve_ms=(t4 - t0) * 1e3,
        )
        if self._refresh_ms is not None:
            t["refresh_ms"] = self._refresh_ms
            self._refresh_ms = None
        return Retrieval(hits, groups, t)
