"""Hybrid retrieval: dense (Chroma) + BM25 (bm25s), fused by sentence id with reciprocal rank fusion.

Fusion is by sentence id, never by text: the same sentence in two articles is two citations. After fusion,
near-identical sentences from different files are grouped, so an answer can cite every article that
reports a fact.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from index.embed import Embedder, make_embedder
from index.sentences import Sentence
from index.settings import Settings
from index.store import Store
from qa.lexical import content_words, numbers

RRF_K = 60
GROUP_JACCARD = 0.5


@dataclass(frozen=True)
class Hit:
    """A retrieved sentence with its fused score and its cosine similarity to the question."""

    sentence: Sentence
    score: float
    similarity: float
    dense_rank: int | None = None
    bm25_rank: int | None = None


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


def near_identical(a: str, b: str) -> bool:
    """Same fact in other words? Content-word Jaccard ≥ GROUP_JACCARD and exactly the same numbers."""
    if numbers(a) != numbers(b):
        return False
    wa, wb = content_words(a), content_words(b)
    if not wa or not wb:
        return a.strip() == b.strip()
    return len(wa & wb) / len(wa | wb) >= GROUP_JACCARD


def group_hits(hits: Sequence[Hit]) -> list[Group]:
    """Group near-identical sentences from different files, keeping rank order of each group's lead."""
    groups: list[Group] = []
    for h in hits:
        for g in groups:
            if h.sentence.file not in g.files and near_identical(g.lead.sentence.text, h.sentence.text):
                g.hits.append(h)
                break
        else:
            groups.append(Group([h]))
    return groups


def rrf(rankings: Sequence[Sequence[str]], k: int = RRF_K) -> dict[str, float]:
    """Reciprocal rank fusion of id rankings: score(id) = Σ 1 / (k + rank)."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, sid in enumerate(ranking, start=1):
            scores[sid] = scores.get(sid, 0.0) + 1.0 / (k + rank)
    return scores


class Retriever:
    """Dense + BM25 over the committed sentences of the index. Reloads when the index changes.

    The sentences, their vectors and the manifest are held in memory, so a query costs one Chroma call
    that returns only ids and distances; whether the index changed is one small read (the store's
    generation token), not a read of the whole manifest.
    """

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(settings)
        self.store = Store(settings, self.embedder.name, self.embedder.dim)
        self._manifest: dict[str, str] = {}
        self._generation: str | None = None
        self._refresh_ms: float | None = None
        self._load()

    def _load(self) -> None:
        import logging

        import bm25s

        logging.getLogger("bm25s").setLevel(logging.ERROR)  # it logs at debug level with its own handler
        self._generation = self.store.generation()  # before the manifest: a commit after it shows next time
        self._manifest, self.sentences, self.vectors = self.store.load_committed()
        self._pos = {s.id: i for i, s in enumerate(self.sentences)}
        self._file_text: dict[str, str] = {}
        self._files: dict[str, tuple[int, int]] = {}
        for i, s in enumerate(self.sentences):
            first, _ = self._files.get(s.file, (i, i))
            self._files[s.file] = (first, i + 1)
        self._bm25 = bm25s.BM25()
        corpus = [bm25_tokens(s.text) or ["_"] for s in self.sentences]
        self._df = Counter(t for doc in corpus for t in set(doc))
        self._vocab = set(self._df)
        if corpus:
            self._bm25.index(corpus, show_progress=False)

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

    def idf(self, key: str) -> float:
        """Inverse document frequency of a stemmed word over the indexed sentences (a word the corpus
        never uses gets the highest value)."""
        n = len(self.sentences)
        return math.log((n + 1) / (self._df.get(key, 0) + 0.5))

    def sentence(self, sid: str) -> Sentence | None:
        """A committed sentence by id."""
        i = self._pos.get(sid)
        return self.sentences[i] if i is not None else None

    def neighbours(self, s: Sentence) -> tuple[Sentence | None, Sentence | None]:
        """The evidence sentences just before and after `s` in its file (boilerplate is not indexed)."""
        i = self._pos.get(s.id)
        if i is None:
            return None, None
        prev = self.sentences[i - 1] if i > 0 and self.sentences[i - 1].file == s.file else None
        nxt = (
            self.sentences[i + 1]
            if i + 1 < len(self.sentences) and self.sentences[i + 1].file == s.file
            else None
        )
        return prev, nxt

    def file_text(self, file: str) -> str:
        """All evidence sentences of one file joined (cached per load)."""
        if file not in self._file_text:
            self._file_text[file] = " ".join(s.text for s in self.file_sentences(file))
        return self._file_text[file]

    def file_sentences(self, file: str) -> list[Sentence]:
        """All committed evidence sentences of one file, in order."""
        first, end = self._files.get(file, (0, 0))
        return self.sentences[first:end]

    def retrieve(self, question: str, k: int | None = None) -> Retrieval:
        """Fused hits (up to `settings.candidates`) and their groups, best first."""
        n = k or self.settings.candidates
        t: dict[str, float] = {}
        t0 = time.perf_counter()
        qvec = self.embedder.embed([question])[0]
        t1 = time.perf_counter()
        dense = [(sid, sim) for sid, sim in self.store.query_ids(qvec, n, self._manifest) if sid in self._pos]
        t2 = time.perf_counter()
        q_tokens = [w for w in bm25_tokens(question) if w in self._vocab]
        bm25_ids: list[str] = []
        if q_tokens and self.sentences:
            docs, scores = self._bm25.retrieve(
                [q_tokens], k=min(n, len(self.sentences)), show_progress=False, n_threads=1
            )
            bm25_ids = [self.sentences[int(d)].id for d, sc in zip(docs[0], scores[0], strict=True) if sc > 0]
        t3 = time.perf_counter()
        dense_ids = [sid for sid, _ in dense]
        fused = rrf([dense_ids, bm25_ids])
        sims = dict(dense)
        d_rank = {sid: r for r, sid in enumerate(dense_ids, 1)}
        b_rank = {sid: r for r, sid in enumerate(bm25_ids, 1)}
        hits = []
        for sid, score in sorted(fused.items(), key=lambda kv: (-kv[1], kv[0])):
            i = self._pos[sid]
            sim = sims.get(sid)
            if sim is None:
                sim = float(self.vectors[i] @ qvec)
            hits.append(Hit(self.sentences[i], score, sim, d_rank.get(sid), b_rank.get(sid)))
        groups = group_hits(hits)
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
