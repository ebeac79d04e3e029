"""The sentence store: reads and writes of the index, through the Chroma adapter (index/chroma.py).

A reader trusts a sentence only if its `version` is the one the manifest names, so an article whose indexing
was interrupted is invisible (fully out) until its manifest record, text included, is written in one call
(fully in). Every commit changes the manifest's `generation` token, so a reader learns whether the index
changed from one small read instead of the whole manifest.

Several processes share one on-disk store (a server reading, `qa index` writing) under the lock protocol of
index/lock.py. While a writer runs, a reader that is already open answers from what it read last
(index/snapshot.py), so it never sees a half-written state and never touches the files; a reader that is
not open yet gets IndexLockedError ("try again when `qa index` finishes"). A reader that sees a new disk
generation reopens Chroma (a fresh client) before it reads again. Opening checks the files first
(index/integrity.py), so a damaged store is an IndexCorruptError naming `qa index --rebuild`, never a crash
on the first query.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from index import chroma
from index.chroma import FILES, SCHEMA, SENTENCES, call, split_record_id, to_sentence, wipe
from index.errors import IndexCorruptError, IndexLockedError
from index.extract import Extracted
from index.integrity import REBUILD, check_store
from index.lock import EXCLUSIVE, OPEN_WAIT_S, SHARED, disk_generation, rw_lock, writer_lock
from index.sentences import Sentence
from index.settings import IndexSettings
from index.snapshot import WRITING, Committed, Snapshot, seen

__all__ = ["FILES", "SENTENCES", "Store", "StoredHit", "disk_generation", "wipe", "writer_lock"]
WRITE_BATCH = 1000  # records per write: Chroma's cost per call is high, its cost per record low
_DELETE_FILES = 50  # articles per "drop old versions" delete
_LOAD_TRIES = 3
T = TypeVar("T")


@dataclass(frozen=True)
class StoredHit:
    """A dense-retrieval hit: a committed sentence and its cosine similarity to the query."""

    sentence: Sentence
    similarity: float


class Store:
    """Read and write access to the sentence index.

    `create=True` is the writer's store (opened inside `writer_lock`; it creates the collections). Any
    other store is a reader, which keeps out of the files while a writer runs (see the module doc).
    """

    def __init__(
        self, settings: IndexSettings, embed_name: str, embed_dim: int, create: bool = False
    ) -> None:
        self._settings = settings
        self.embed_name = embed_name
        self.embed_dim = embed_dim
        self._local = not settings.chroma_url
        self._writer = create
        self._disk_gen = ""
        self._last = Snapshot()  # what a reader read last, answered while a writer holds the store
        if self._local and not create:
            with rw_lock(settings, EXCLUSIVE, OPEN_WAIT_S) as held:
                if not held:
                    raise IndexLockedError(WRITING)
                self._open(create)
        else:
            self._open(create)

    def _open(self, create: bool) -> None:
        """Check the files, open Chroma and both collections (stamp checked), and count each collection
        (which makes Chroma load its vector segments now, not on the first question)."""
        if self._local:
            self._disk_gen = disk_generation(self._settings)
            check_store(self._settings.data_dir / "chroma")
        self._client = chroma.client(self._settings)
        self._sent, self._files = chroma.collections(self._client, self.embed_name, self.embed_dim, create)
        call(self._files.count)
        self._last.count = call(lambda: int(self._sent.count()))
        if create and "generation" not in (self._files.metadata or {}):
            self._bump()  # a writer opening an index from before generation tokens: give it one

    @contextmanager
    def _reading(self) -> Iterator[bool]:
        """True: read Chroma now (its view is current; the shared lock is held for the block). False: a
        writer holds the store; answer from what was read last."""
        if self._writer or not self._local:
            yield True
            return
        if disk_generation(self._settings) != self._disk_gen:
            # Another process wrote since this store was opened: reopen, unless it is still writing.
            with rw_lock(self._settings, EXCLUSIVE, 0) as held:
                if held:
                    self._open(create=False)
        with rw_lock(self._settings, SHARED, 0) as held:
            yield held and disk_generation(self._settings) == self._disk_gen

    # ---- manifest -------------------------------------------------------------------------------------
    def _manifest_records(self) -> dict[str, tuple[str, int, str | None]]:
        """file → (version, number of sentences, reader stamp or None), as committed."""
        out: dict[str, tuple[str, int, str | None]] = {}
        try:
            for got in chroma.pages(self._files, ["metadatas"]):
                for i, m in zip(got["ids"], got["metadatas"] or [], strict=False):
                    stamp = m.get("stamp")
                    out[i] = (str(m["version"]), int(m.get("sentences", -1)), str(stamp) if stamp else None)
        except Exception as e:
            raise IndexCorruptError(f"The index manifest cannot be read ({e}); {REBUILD}.") from e
        return out

    def manifest(self) -> dict[str, str]:
        """Committed articles: file → version (content hash)."""
        with self._reading() as live:
            if live:
                self._last.manifest = {f: v for f, (v, _, _) in self._manifest_records().items()}
        return dict(seen(self._last.manifest))

    def manifest_stamps(self) -> dict[str, tuple[str, str | None]]:
        """Committed articles: file → (version, stamp of the reader that produced its text). The stamp is
        None for an article indexed before stamps were kept (it was a .txt read as it is). For the writer."""
        return {f: (v, st) for f, (v, _, st) in self._manifest_records().items()}

    def generation(self) -> str | None:
        """A token that changes whenever a writer commits or removes an article; None for an index written
        before tokens existed (then only comparing manifests tells). One small read, even on a server."""
        with self._reading() as live:
            if not live:
                return self._last.generation
            try:
                meta = self._client.get_collection(FILES, embedding_function=None).metadata or {}
            except Exception as e:
                raise IndexCorruptError(f"The index manifest cannot be read ({e}); {REBUILD}.") from e
            token = meta.get("generation")
            self._last.generation = str(token) if token is not None else None
            return self._last.generation

    def _bump(self) -> None:
        """Tell readers the committed set changed: called after every commit, never before it."""
        self._files.modify(metadata={"schema": SCHEMA, "generation": uuid.uuid4().hex})

    def count(self) -> int:
        """Number of sentence records (including any not yet committed)."""
        with self._reading() as live:
            if live:
                self._last.count = call(lambda: int(self._sent.count()))
        return seen(self._last.count)

    # ---- writes ---------------------------------------------------------------------------------------
    def put_article(
        self,
        file: str,
        version: str,
        sentences: Sequence[Sentence],
        vectors: np.ndarray,
        text: Extracted | None = None,
    ) -> None:
        """Write one article's sentences, then commit it in the manifest (with the text read from it, which
        the sentence spans index), then drop its old version."""
        self.put_articles([(file, version, sentences, vectors)], {file: text} if text is not None else None)

    def put_articles(
        self,
        articles: Sequence[tuple[str, str, Sequence[Sentence], np.ndarray]],
        texts: Mapping[str, Extracted] | None = None,
    ) -> None:
        """Write several articles (file, version, sentences, vectors) with few store calls: all their
        sentences, then one manifest commit, then their old versions are dropped. `texts` holds the text
        read from each file (by file name), kept in its manifest record.

        Each article keeps put_article's guarantee: its sentences are invisible until its manifest record
        is written, so a crash leaves every article fully in or fully out. Chroma pays ~50 ms per write
        call but well under 1 ms per record, so bulk loads should pass many small articles at once.
        """
        if not articles:
            return
        texts = texts or {}
        ids, docs, metas, matrix = chroma.sentence_records(articles, texts, self.embed_dim)
        for b in range(0, len(ids), WRITE_BATCH):
            self._sent.upsert(
                ids=ids[b : b + WRITE_BATCH],
                embeddings=matrix[b : b + WRITE_BATCH],
                documents=docs[b : b + WRITE_BATCH],
                metadatas=metas[b : b + WRITE_BATCH],
            )
        for b in range(0, len(articles), WRITE_BATCH):
            chunk = articles[b : b + WRITE_BATCH]
            self._files.upsert(
                ids=[a[0] for a in chunk],
                embeddings=[[1.0]] * len(chunk),
                metadatas=[chroma.manifest_meta(a[1], len(a[2]), texts.get(a[0])) for a in chunk],
                documents=[t.text if (t := texts.get(a[0])) is not None else None for a in chunk],
            )
        self._bump()
        for b in range(0, len(articles), _DELETE_FILES):
            old = [
                {"$and": [{"file": a[0]}, {"version": {"$ne": a[1]}}]}
                for a in articles[b : b + _DELETE_FILES]
            ]
            self._sent.delete(where=old[0] if len(old) == 1 else {"$or": old})

    def remove_article(self, file: str) -> None:
        """Uncommit an article (it disappears for readers at once), then delete its sentences."""
        self._files.delete(ids=[file])
        self._bump()
        self._sent.delete(where={"file": file})

    def sweep(self) -> int:
        """Delete sentence records that no manifest entry commits (left by an interrupted run)."""
        committed = self.manifest()
        stale: list[str] = []
        for got in chroma.pages(self._sent, []):  # the id carries the file and the version's prefix
            for i in got["ids"]:
                _, file, version16 = split_record_id(i)
                if committed.get(file, "")[:16] != version16 or not version16:
                    stale.append(i)
        for b in range(0, len(stale), 5000):
            self._sent.delete(ids=stale[b : b + 5000])
        return len(stale)

    # ---- reads ----------------------------------------------------------------------------------------
    def text(self, file: str) -> Extracted | None:
        """The text read from `file` when it was indexed (what its sentence spans index), with its format,
        title, date and pages; None when no article has that name, or when it was indexed before texts were
        kept (`qa index --rebuild` stores them). One small read; `file` is only ever an id to look up."""
        with self._reading() as live:
            if live:
                got = call(lambda: self._files.get(ids=[file], include=["metadatas", "documents"]))
                if not got["ids"]:
                    self._last.keep_text(file, None)
                    return None
                meta = (got["metadatas"] or [{}])[0] or {}
                text = chroma.extracted(meta, (got["documents"] or [None])[0])
                if text is not None:
                    self._last.keep_text(file, text)
                return text
        return self._last.text(file)

    def all_sentences(self) -> tuple[list[Sentence], np.ndarray]:
        """Every committed evidence sentence in file then sentence order, with its vectors (rows align)."""
        _, sentences, vectors = self.load_committed()
        return sentences, vectors

    def load_committed(self) -> tuple[dict[str, str], list[Sentence], np.ndarray]:
        """The manifest and, consistent with it, every committed sentence and its vector, in file then
        sentence order. Kept as what was read last (see `remember`)."""
        with self._reading() as live:
            if live:
                manifest, rows = self._consistent(lambda committed: list(self._committed_rows(committed)))
                rows.sort(key=lambda r: (r[0].file, r[0].n))
                vecs = np.asarray([r[1] for r in rows], dtype=np.float32).reshape(len(rows), self.embed_dim)
                self.remember(Committed(manifest, [r[0] for r in rows], vecs))
        view = seen(self._last.committed)
        return dict(view.manifest), list(view.sentences), np.asarray(view.vectors)

    def read_committed(
        self,
        sink: Callable[[Sequence[tuple[Sentence, Any]] | None], None],
        held: Mapping[str, str] | None = None,
    ) -> dict[str, str] | None:
        """Stream the committed sentences and their vectors, in Chroma's order, to `sink(page)`, a page being
        a list of (sentence, vector); `sink(None)` starts each read over. Articles at the version `held`
        names (file → version: what the caller has already) are left out. Returns the manifest the pages are
        consistent with, or None while a writer holds the store (then nothing was read)."""
        held = held or {}
        with self._reading() as live:
            if not live:
                return None

            def read(committed: Mapping[str, str]) -> None:
                sink(None)
                wanted = {f: v for f, v in committed.items() if held.get(f) != v}
                page: list[tuple[Sentence, Any]] = []
                for row in self._committed_rows(wanted, len(wanted) < len(committed) // 2):
                    page.append(row)
                    if len(page) == chroma.PAGE:
                        sink(page)
                        page = []
                sink(page)

            manifest, _ = self._consistent(read, held)
            self._last.manifest = dict(manifest)
            return manifest

    def remember(self, committed: Committed) -> None:
        """Keep `committed` as what was read last: a writer's run is answered from it (its sentences and
        vectors may be memory-mapped, see index/mapped.py)."""
        self._last.manifest = dict(committed.manifest)
        self._last.committed = committed

    def _consistent(
        self, read: Callable[[Mapping[str, str]], T], held: Mapping[str, str] | None = None
    ) -> tuple[dict[str, str], T]:
        """`read(committed)` under a manifest; read again (up to _LOAD_TRIES) if a writer changed the index
        meanwhile, seen as an article read whose sentence count disagrees with its manifest record."""
        held = held or {}
        for _ in range(_LOAD_TRIES):
            records = self._manifest_records()
            committed = {f: v for f, (v, _, _) in records.items()}
            self._per_file: dict[str, int] = {}
            got = call(functools.partial(read, committed))
            if all(
                n < 0 or held.get(f) == v or self._per_file.get(f, 0) == n for f, (v, n, _) in records.items()
            ):
                break
        return committed, got

    def _committed_rows(
        self, committed: Mapping[str, str], by_file: bool = False
    ) -> Iterator[tuple[Sentence, Any]]:
        """The records of `committed` articles at their version: read by file (`by_file`, for a few
        articles) or by paging through the whole collection."""
        seen_ids: set[str] = set()
        files = sorted(committed)
        include = ["metadatas", "documents", "embeddings"]
        reads = (
            (
                got
                for b in range(0, len(files), _DELETE_FILES)
                for got in chroma.pages(self._sent, include, {"file": {"$in": files[b : b + _DELETE_FILES]}})
            )
            if by_file
            else chroma.pages(self._sent, include)
        )
        for got in reads:
            embeddings = got["embeddings"] if got["embeddings"] is not None else []
            for i, m, d, v in zip(
                got["ids"], got["metadatas"] or [], got["documents"] or [], embeddings, strict=False
            ):
                if committed.get(str(m["file"])) == m["version"] and i not in seen_ids:
                    seen_ids.add(i)
                    self._per_file[str(m["file"])] = self._per_file.get(str(m["file"]), 0) + 1
                    yield to_sentence(m, d), v

    def query(
        self, vector: np.ndarray, k: int, committed: Mapping[str, str] | None = None
    ) -> list[StoredHit]:
        """Top-k committed sentences by cosine similarity (fewer if uncommitted records rank among them).

        `committed` is a manifest the caller already holds (file → version); without it, one is read.
        """
        committed = self.manifest() if committed is None else committed
        with self._reading() as live:
            if live:
                got = call(
                    lambda: self._sent.query(
                        query_embeddings=[np.asarray(vector, dtype=np.float32)],
                        n_results=k,
                        include=["metadatas", "documents", "distances"],
                    )
                )
                hits = []
                for m, d, dist in zip(
                    got["metadatas"][0], got["documents"][0], got["distances"][0], strict=False
                ):
                    if committed.get(str(m["file"])) == m["version"]:
                        hits.append(StoredHit(to_sentence(m, d), 1.0 - float(dist)))
                return hits
        return [StoredHit(s, sim) for s, sim in self._last.search(vector, k, committed)]

    def query_ids(self, vector: np.ndarray, k: int, committed: Mapping[str, str]) -> list[tuple[str, float]]:
        """Top-k committed sentence ids with their cosine similarity, best first.

        For a caller that holds the sentences already (the Retriever): the ids and distances come back
        without metadata or text, which is most of what a Chroma query costs.
        """
        with self._reading() as live:
            if live:
                got = call(
                    lambda: self._sent.query(
                        query_embeddings=[np.asarray(vector, dtype=np.float32)],
                        n_results=k,
                        include=["distances"],
                    )
                )
                out = []
                for rid, dist in zip(got["ids"][0], got["distances"][0], strict=False):
                    sid, file, version16 = split_record_id(rid)
                    if version16 and committed.get(file, "")[:16] == version16:
                        out.append((sid, 1.0 - float(dist)))
                return out
        return [(s.id, sim) for s, sim in self._last.search(vector, k, committed)]
