"""The sentence store: Chroma on disk (or a Chroma server), stamped with the embedding model.

Layout: collection `qa_sentences` holds one record per evidence sentence, id `<file>#<n>@<version>`, with
metadata `sid, file, n, start, end, version` (and `page` for a PDF). Collection `qa_files` is the manifest:
one record per article, id = file, metadata `version` (content hash of the raw file), `sentences`, and what
the reader said (`stamp`: which reader and library produced the text, `format`, `title`, `date`, `pages`:
each page's start offset as JSON); its document is the text read from the file, which every sentence span
indexes. A reader trusts a sentence only if its `version` is the one the manifest names, so an article whose
indexing was interrupted is invisible (fully out) until its manifest record, text included, is written in
one call (fully in).

The manifest collection's own metadata carries a `generation` token that every writer changes after each
commit, so a reader learns whether the index changed from one small read instead of the whole manifest.

Reads of whole collections are paged: SQLite, under Chroma, refuses a single read of more than ~32k
records ("too many SQL variables").

Several processes share one on-disk store (a server reading, `qa index` writing), which Chroma's embedded
mode does not support by itself: a reader that stays open while another process writes fails with
"Error finding id" from then on, and even a reader rewrites the HNSW files when it opens. So access is
coordinated with two lock files in the data dir:

- `index.lock`: one writer at a time; a second `qa index` fails at once with "The index is locked".
- `index.rw`: the writer holds it exclusively for its whole run; a reader holds it shared for each read
  and exclusively while it opens the store. While a writer runs, a reader that is already open answers
  from what it read last (manifest, committed sentences and vectors, searched by exact cosine), so it
  never sees a half-written state and never touches the files; a reader that is not open yet gets
  IndexLockedError ("try again when `qa index` finishes").

Every writer also replaces `index.gen` before it writes; a reader that sees a new one reopens Chroma (a
fresh client) before it reads again. Opening checks the files first (index/integrity.py), so a damaged
store is an IndexCorruptError naming `qa index --rebuild`, never a crash on the first query.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from index.errors import (
    IndexCorruptError,
    IndexLockedError,
    IndexMismatchError,
    IndexMissingError,
    QAError,
)
from index.extract import Extracted
from index.integrity import REBUILD, check_store
from index.sentences import Sentence
from index.settings import Settings

SENTENCES = "qa_sentences"
FILES = "qa_files"
SCHEMA = 1
_REBUILD = REBUILD
PAGE = 5000  # records per read: well under SQLite's limit on variables per statement
WRITE_BATCH = 1000  # records per write: Chroma's cost per call is high, its cost per record low
_DELETE_FILES = 50  # articles per "drop old versions" delete
_LOAD_TRIES = 3
_TEXT_CACHE = 64  # texts a reader keeps, for the source viewer while a writer holds the store
OPEN_WAIT_S = 3.0  # a reader waits this long for another reader's open (under a second) to finish
WRITER_WAIT_S = 60.0  # the writer waits this long for readers to finish their current read
_WRITING = (
    "`qa index` is writing the index right now; it can be read when that finishes. Try again in a moment."
)
T = TypeVar("T")
# The disk generation each cached Chroma client (chromadb keeps one per path) was opened at.
_CLIENT_GEN: dict[str, str] = {}


@dataclass(frozen=True)
class StoredHit:
    """A dense-retrieval hit: a committed sentence and its cosine similarity to the query."""

    sentence: Sentence
    similarity: float


# ---- locks and generations -----------------------------------------------------------------------------
@contextmanager
def _rw_lock(settings: Settings, mode: int, wait_s: float) -> Iterator[bool]:
    """Hold `index.rw` in `mode` (fcntl.LOCK_SH or LOCK_EX) for the block; yields False (and holds
    nothing) when it could not be had within `wait_s` seconds."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(settings.data_dir / "index.rw", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                held = True
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    held = False
                    break
                time.sleep(0.02)
        yield held
    finally:
        os.close(fd)  # releases the lock


def disk_generation(settings: Settings) -> str:
    """The store's write generation: changes every time a writer takes the lock ("" before the first)."""
    try:
        return (settings.data_dir / "index.gen").read_text("ascii")
    except (OSError, UnicodeDecodeError):
        return ""


def _bump_disk_generation(settings: Settings) -> None:
    path = settings.data_dir / "index.gen"
    tmp = path.with_name(f"index.gen.{os.getpid()}")
    tmp.write_text(f"{time.time_ns()}-{os.getpid()}", "ascii")
    os.replace(tmp, path)  # atomic: a reader sees the old generation or the new one


def _forget_client(path: str) -> None:
    """Drop chromadb's cached client for `path`, so the next one reads the files afresh. Store objects
    still holding the old one keep working on it until they notice the new generation themselves.
    (`SharedSystemClient` caches one System per path; chromadb is pinned in pyproject.toml.)"""
    from chromadb.api.shared_system_client import SharedSystemClient

    with SharedSystemClient._refcount_lock:
        SharedSystemClient._identifier_to_system.pop(path, None)
        SharedSystemClient._identifier_to_refcount.pop(path, None)
    _CLIENT_GEN.pop(path, None)


def _client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        from urllib.parse import urlparse

        u = urlparse(settings.chroma_url)
        try:
            return chromadb.HttpClient(
                host=u.hostname or "127.0.0.1",
                port=u.port or 8000,
                ssl=u.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as e:
            raise IndexCorruptError(
                f"Chroma server at {settings.chroma_url} is not reachable ({e}): start it with "
                "`chroma run --path DIR`, or unset QA_CHROMA_URL to use the on-disk store."
            ) from e
    path = settings.data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    gen = disk_generation(settings)
    if _CLIENT_GEN.get(str(path), gen) != gen:
        _forget_client(str(path))  # another process wrote since chromadb's cached client read the files
    try:
        client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as e:
        raise IndexCorruptError(f"The index at {path} cannot be opened ({e}); {_REBUILD}.") from e
    _CLIENT_GEN[str(path)] = gen
    return client


def _to_sentence(meta: Mapping[str, Any], doc: str) -> Sentence:
    return Sentence(str(meta["file"]), int(meta["n"]), int(meta["start"]), int(meta["end"]), doc)


def _record_id(sid: str, version: str) -> str:
    return f"{sid}@{version[:16]}"


def _split_record_id(record_id: str) -> tuple[str, str, str]:
    """`<file>#<n>@<version16>` → (sid, file, version16)."""
    sid, _, version16 = record_id.rpartition("@")
    return sid, sid.rpartition("#")[0], version16


class Store:
    """Read and write access to the sentence index.

    `create=True` is the writer's store (opened inside `writer_lock`; it creates the collections). Any
    other store is a reader, which keeps out of the files while a writer runs (see the module doc).
    """

    def __init__(self, settings: Settings, embed_name: str, embed_dim: int, create: bool = False) -> None:
        self._settings = settings
        self.embed_name = embed_name
        self.embed_dim = embed_dim
        self._local = not settings.chroma_url
        self._writer = create
        self._disk_gen = ""
        # What a reader read last, answered while a writer holds the store.
        self._seen_manifest: dict[str, str] | None = None
        self._seen_generation: str | None = None
        self._seen_count: int | None = None
        self._snapshot: tuple[dict[str, str], list[Sentence], np.ndarray] | None = None
        self._texts: dict[str, Extracted] = {}
        if self._local and not create:
            with _rw_lock(settings, fcntl.LOCK_EX, OPEN_WAIT_S) as held:
                if not held:
                    raise IndexLockedError(_WRITING)
                self._open(create)
        else:
            self._open(create)

    def _open(self, create: bool) -> None:
        """Check the files, open Chroma and both collections, check the stamp, and count each collection
        (which makes Chroma load its vector segments now, not on the first question)."""
        if self._local:
            self._disk_gen = disk_generation(self._settings)
            check_store(self._settings.data_dir / "chroma")
        self._client = _client(self._settings)
        try:
            names = {c if isinstance(c, str) else c.name for c in self._client.list_collections()}
        except Exception as e:
            raise IndexCorruptError(f"The index cannot be read ({type(e).__name__}: {e}); {_REBUILD}.") from e
        if SENTENCES not in names and not create:
            raise IndexMissingError("There is no index yet: run `qa index` (or `make run`) first.")
        try:
            self._sent = self._client.get_or_create_collection(
                SENTENCES,
                metadata={"embed_model": self.embed_name, "embed_dim": self.embed_dim, "schema": SCHEMA},
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
            # Cosine, though its placeholder vectors are never searched: in an l2 segment hnswlib leaves
            # `length.bin` uninitialised (NaN here and there past ~1000 articles), which the integrity
            # check reads as damage; in a cosine segment every norm is written. An existing collection
            # keeps the space it was created with.
            self._files = self._client.get_or_create_collection(
                FILES,
                metadata={"schema": SCHEMA},
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
        except Exception as e:
            raise IndexCorruptError(
                f"The index cannot be opened ({type(e).__name__}: {e}); {_REBUILD}."
            ) from e
        meta = self._sent.metadata or {}
        if meta.get("embed_model") != self.embed_name or int(meta.get("embed_dim", -1)) != self.embed_dim:
            raise IndexMismatchError(
                f"The index was built with embedding model {meta.get('embed_model')} "
                f"(dimension {meta.get('embed_dim')}), but {self.embed_name} (dimension {self.embed_dim}) "
                f"is configured; {_REBUILD}, or set QA_EMBED back."
            )
        self._chroma(self._files.count)
        self._seen_count = self._chroma(lambda: int(self._sent.count()))
        if create and "generation" not in (self._files.metadata or {}):
            self._bump()  # a writer opening an index from before generation tokens: give it one

    # ---- coordination with other processes ----------------------------------------------------------
    @staticmethod
    def _chroma(call: Callable[[], T]) -> T:
        """Run one Chroma call; what it raises (damage found late) becomes IndexCorruptError."""
        try:
            return call()
        except QAError:
            raise
        except Exception as e:
            raise IndexCorruptError(
                f"The index cannot be read ({type(e).__name__}: {str(e)[:200]}); {_REBUILD}."
            ) from e

    @contextmanager
    def _reading(self) -> Iterator[bool]:
        """True: read Chroma now (its view is current; the shared lock is held for the block). False: a
        writer holds the store; answer from what was read last."""
        if self._writer or not self._local:
            yield True
            return
        if disk_generation(self._settings) != self._disk_gen:
            # Another process wrote since this store was opened: reopen, unless it is still writing.
            with _rw_lock(self._settings, fcntl.LOCK_EX, 0) as held:
                if held:
                    self._open(create=False)
        with _rw_lock(self._settings, fcntl.LOCK_SH, 0) as held:
            yield held and disk_generation(self._settings) == self._disk_gen

    @staticmethod
    def _seen(value: T | None) -> T:
        """What was read last, while a writer holds the store; IndexLockedError if nothing was."""
        if value is None:
            raise IndexLockedError(_WRITING)
        return value

    # ---- paging ---------------------------------------------------------------------------------------
    @staticmethod
    def _pages(collection: Any, include: list[str]) -> Iterator[dict[str, Any]]:
        """A whole collection, PAGE records at a time (one read of it all fails past ~32k records)."""
        offset = 0
        while True:
            got = collection.get(include=include, limit=PAGE, offset=offset)
            yield got
            if len(got["ids"]) < PAGE:
                return
            offset += PAGE

    # ---- manifest -------------------------------------------------------------------------------------
    def _manifest_records(self) -> dict[str, tuple[str, int, str | None]]:
        """file → (version, number of sentences, reader stamp or None), as committed."""
        out: dict[str, tuple[str, int, str | None]] = {}
        try:
            for got in self._pages(self._files, ["metadatas"]):
                for i, m in zip(got["ids"], got["metadatas"] or [], strict=False):
                    stamp = m.get("stamp")
                    out[i] = (str(m["version"]), int(m.get("sentences", -1)), str(stamp) if stamp else None)
        except Exception as e:
            raise IndexCorruptError(f"The index manifest cannot be read ({e}); {_REBUILD}.") from e
        return out

    def manifest(self) -> dict[str, str]:
        """Committed articles: file → version (content hash)."""
        with self._reading() as live:
            if live:
                self._seen_manifest = {f: v for f, (v, _, _) in self._manifest_records().items()}
        return dict(self._seen(self._seen_manifest))

    def manifest_stamps(self) -> dict[str, tuple[str, str | None]]:
        """Committed articles: file → (version, stamp of the reader that produced its text). The stamp is
        None for an article indexed before stamps were kept (it was a .txt read as it is). For the writer."""
        return {f: (v, st) for f, (v, _, st) in self._manifest_records().items()}

    def generation(self) -> str | None:
        """A token that changes whenever a writer commits or removes an article; None for an index written
        before tokens existed (then only comparing manifests tells). One small read, even on a server."""
        with self._reading() as live:
            if not live:
                return self._seen_generation
            try:
                meta = self._client.get_collection(FILES, embedding_function=None).metadata or {}
            except Exception as e:
                raise IndexCorruptError(f"The index manifest cannot be read ({e}); {_REBUILD}.") from e
            token = meta.get("generation")
            self._seen_generation = str(token) if token is not None else None
            return self._seen_generation

    def _bump(self) -> None:
        """Tell readers the committed set changed: called after every commit, never before it."""
        self._files.modify(metadata={"schema": SCHEMA, "generation": uuid.uuid4().hex})

    def count(self) -> int:
        """Number of sentence records (including any not yet committed)."""
        with self._reading() as live:
            if live:
                self._seen_count = self._chroma(lambda: int(self._sent.count()))
        return self._seen(self._seen_count)

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
        ids: list[str] = []
        docs: list[str] = []
        metas: list[dict[str, str | int]] = []
        vecs: list[np.ndarray] = []
        for file, version, sentences, vectors in articles:
            if len(sentences) != len(vectors):
                raise ValueError(f"{file}: {len(sentences)} sentences but {len(vectors)} vectors")
            extracted = texts.get(file)
            for s in sentences:
                ids.append(_record_id(s.id, version))
                docs.append(s.text)
                meta: dict[str, str | int] = {
                    "sid": s.id,
                    "file": s.file,
                    "n": s.n,
                    "start": s.start,
                    "end": s.end,
                    "version": version,
                }
                page = extracted.page_at(s.start) if extracted is not None else None
                if page is not None:
                    meta["page"] = page
                metas.append(meta)
            if len(sentences):
                vecs.append(np.asarray(vectors, dtype=np.float32))
        matrix = np.concatenate(vecs) if vecs else np.zeros((0, self.embed_dim), np.float32)
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
                metadatas=[_manifest_meta(a[1], len(a[2]), texts.get(a[0])) for a in chunk],
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
        for got in self._pages(self._sent, []):  # the id carries the file and the version's prefix
            for i in got["ids"]:
                _, file, version16 = _split_record_id(i)
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
                got = self._chroma(lambda: self._files.get(ids=[file], include=["metadatas", "documents"]))
                if not got["ids"]:
                    self._texts.pop(file, None)
                    return None
                meta = (got["metadatas"] or [{}])[0] or {}
                doc = (got["documents"] or [None])[0]
                extracted = _extracted(meta, doc)
                if extracted is None:
                    return None
                self._texts.pop(file, None)
                self._texts[file] = extracted
                while len(self._texts) > _TEXT_CACHE:
                    self._texts.pop(next(iter(self._texts)))
                return extracted
        if file in self._texts:
            return self._texts[file]
        raise IndexLockedError(_WRITING)

    def all_sentences(self) -> tuple[list[Sentence], np.ndarray]:
        """Every committed evidence sentence in file then sentence order, with its vectors (rows align)."""
        _, sentences, vectors = self.load_committed()
        return sentences, vectors

    def load_committed(self) -> tuple[dict[str, str], list[Sentence], np.ndarray]:
        """The manifest and, consistent with it, every committed sentence and its vector.

        Read in pages; if a writer changed the index meanwhile (an article's sentence count disagrees with
        its manifest record), read again.
        """
        with self._reading() as live:
            if live:
                for _ in range(_LOAD_TRIES):
                    records = self._manifest_records()
                    committed = {f: v for f, (v, _, _) in records.items()}
                    sentences, vectors = self._chroma(functools.partial(self._read_committed, committed))
                    have: dict[str, int] = {}
                    for s in sentences:
                        have[s.file] = have.get(s.file, 0) + 1
                    if all(n < 0 or have.get(f, 0) == n for f, (_, n, _) in records.items()):
                        break
                self._seen_manifest = dict(committed)
                self._snapshot = (committed, sentences, vectors)
        committed, sentences, vectors = self._seen(self._snapshot)
        return dict(committed), list(sentences), vectors

    def _read_committed(self, committed: Mapping[str, str]) -> tuple[list[Sentence], np.ndarray]:
        seen: set[str] = set()
        rows: list[tuple[Sentence, Any]] = []
        for got in self._pages(self._sent, ["metadatas", "documents", "embeddings"]):
            embeddings = got["embeddings"] if got["embeddings"] is not None else []
            for i, m, d, v in zip(
                got["ids"], got["metadatas"] or [], got["documents"] or [], embeddings, strict=False
            ):
                if committed.get(str(m["file"])) == m["version"] and i not in seen:
                    seen.add(i)
                    rows.append((_to_sentence(m, d), v))
        rows.sort(key=lambda r: (r[0].file, r[0].n))
        vecs = np.asarray([r[1] for r in rows], dtype=np.float32).reshape(len(rows), self.embed_dim)
        return [r[0] for r in rows], vecs

    def query(
        self, vector: np.ndarray, k: int, committed: Mapping[str, str] | None = None
    ) -> list[StoredHit]:
        """Top-k committed sentences by cosine similarity (fewer if uncommitted records rank among them).

        `committed` is a manifest the caller already holds (file → version); without it, one is read.
        """
        committed = self.manifest() if committed is None else committed
        with self._reading() as live:
            if live:
                got = self._chroma(
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
                        hits.append(StoredHit(_to_sentence(m, d), 1.0 - float(dist)))
                return hits
        return [StoredHit(s, sim) for s, sim in self._snapshot_search(vector, k, committed)]

    def query_ids(self, vector: np.ndarray, k: int, committed: Mapping[str, str]) -> list[tuple[str, float]]:
        """Top-k committed sentence ids with their cosine similarity, best first.

        For a caller that holds the sentences already (the Retriever): the ids and distances come back
        without metadata or text, which is most of what a Chroma query costs.
        """
        with self._reading() as live:
            if live:
                got = self._chroma(
                    lambda: self._sent.query(
                        query_embeddings=[np.asarray(vector, dtype=np.float32)],
                        n_results=k,
                        include=["distances"],
                    )
                )
                out = []
                for record_id, dist in zip(got["ids"][0], got["distances"][0], strict=False):
                    sid, file, version16 = _split_record_id(record_id)
                    if version16 and committed.get(file, "")[:16] == version16:
                        out.append((sid, 1.0 - float(dist)))
                return out
        return [(s.id, sim) for s, sim in self._snapshot_search(vector, k, committed)]

    def _snapshot_search(
        self, vector: np.ndarray, k: int, committed: Mapping[str, str]
    ) -> list[tuple[Sentence, float]]:
        """Exact cosine search over what was read last (unit vectors), while a writer holds the store;
        only sentences of articles at the version `committed` names."""
        manifest, sentences, vectors = self._seen(self._snapshot)
        if not sentences:
            return []
        sims = vectors @ np.asarray(vector, dtype=np.float32)
        out: list[tuple[Sentence, float]] = []
        for i in np.argsort(-sims, kind="stable"):
            s = sentences[int(i)]
            if committed.get(s.file) == manifest.get(s.file):
                out.append((s, float(sims[int(i)])))
                if len(out) == k:
                    break
        return out


def _manifest_meta(version: str, sentences: int, text: Extracted | None) -> dict[str, str | int]:
    meta: dict[str, str | int] = {"version": version, "sentences": sentences}
    if text is not None:
        meta.update(
            stamp=text.stamp,
            format=text.format,
            title=text.title,
            date=text.date,
            pages=json.dumps(list(text.pages)),
        )
    return meta


def _extracted(meta: Mapping[str, Any], doc: str | None) -> Extracted | None:
    """A manifest record's text and reader facts; None for a record written before texts were kept."""
    if doc is None or "format" not in meta:
        return None
    try:
        pages = tuple(int(p) for p in json.loads(str(meta.get("pages") or "[]")))
    except (ValueError, TypeError):
        pages = ()
    return Extracted(
        text=doc,
        format=str(meta["format"]),
        title=str(meta.get("title") or ""),
        date=str(meta.get("date") or ""),
        pages=pages,
        stamp=str(meta.get("stamp") or ""),
    )


def wipe(settings: Settings) -> None:
    """Delete the whole index (used by `--rebuild`, inside `writer_lock`). Works even when the files on
    disk are damaged: then they are removed without letting Chroma read them."""
    if settings.chroma_url:
        client = _client(settings)
        names = {c if isinstance(c, str) else c.name for c in client.list_collections()}
        for name in (SENTENCES, FILES):
            if name in names:
                client.delete_collection(name)
        return
    path = settings.data_dir / "chroma"
    try:
        check_store(path)
        client = _client(settings)
        names = {c if isinstance(c, str) else c.name for c in client.list_collections()}
        for name in (SENTENCES, FILES):
            if name in names:
                client.delete_collection(name)
        return
    except Exception:  # noqa: BLE001 - damaged: remove the files below instead
        pass
    _forget_client(str(path))
    shutil.rmtree(path, ignore_errors=True)


@contextmanager
def writer_lock(settings: Settings) -> Iterator[None]:
    """Hold the index's writer lock; a second writer gets IndexLockedError at once. Readers in other
    processes are kept out of the files while it is held (they answer from their snapshot)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / "index.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise IndexLockedError(
                f"The index is locked: another `qa index` is writing {settings.data_dir}. "
                "Wait for it to finish, then try again."
            ) from e
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        with _rw_lock(settings, fcntl.LOCK_EX, WRITER_WAIT_S) as held:
            if not held:
                raise IndexLockedError(
                    f"The index at {settings.data_dir} is being read and could not be locked for writing "
                    f"within {WRITER_WAIT_S:g} s. Try again."
                )
            _bump_disk_generation(settings)
            yield
    finally:
        os.close(fd)
