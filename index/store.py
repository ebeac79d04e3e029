"""The sentence store: Chroma on disk (or a Chroma server), stamped with the embedding model.

Layout: collection `qa_sentences` holds one record per evidence sentence, id `<file>#<n>@<version>`, with
metadata `sid, file, n, start, end, version`. Collection `qa_files` is the manifest: one record per
article, id = file, metadata `version` (content hash) and `sentences`. A reader trusts a sentence only if
its `version` is the one the manifest names, so an article whose indexing was interrupted is invisible
(fully out) until its manifest record is written (fully in).

Several processes share one on-disk store (a server reading, `qa index` writing), which Chroma's embedded
mode does not support by itself: a reader that stays open while another process writes fails with
"Error finding id" from then on, and even a reader rewrites the HNSW files when it opens. So access is
coordinated with two lock files in the data dir:

- `index.lock`: one writer at a time; a second `qa index` fails at once with "The index is locked".
- `index.rw`: the writer holds it exclusively for its whole run; a reader holds it shared for each read
  and exclusively while it opens the store. While a writer runs, a reader that is already open answers
  from the snapshot it read last (the manifest, the committed sentences and their vectors, searched by
  exact cosine), so it never sees a half-written state and never touches the files; a reader that is
  not open yet gets IndexLockedError ("try again when `qa index` finishes").

Every writer bumps `index.gen` before it writes; a reader that sees a new generation reopens Chroma
(a fresh client) before it reads again. Opening checks the files first (index/integrity.py), so a
damaged store is an IndexCorruptError naming `qa index --rebuild`, never a crash on the first query.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
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
from index.integrity import REBUILD, check_store
from index.sentences import Sentence
from index.settings import Settings

SENTENCES = "qa_sentences"
FILES = "qa_files"
SCHEMA = 1
_REBUILD = REBUILD
OPEN_WAIT_S = 3.0  # a reader waits this long for another reader's open (under a second) to finish
WRITER_WAIT_S = 60.0  # the writer waits this long for readers to finish their current read
_WRITING = (
    "`qa index` is writing the index right now; it can be read when that finishes. Try again in a moment."
)
T = TypeVar("T")
# The generation of the store each cached Chroma client (one per path, inside chromadb) was opened at.
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


def generation(settings: Settings) -> str:
    """The store's write generation: changes every time a writer takes the lock ("" before the first)."""
    try:
        return (settings.data_dir / "index.gen").read_text("ascii")
    except (OSError, UnicodeDecodeError):
        return ""


def _bump_generation(settings: Settings) -> None:
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
    gen = generation(settings)
    if _CLIENT_GEN.get(str(path), gen) != gen:
        _forget_client(str(path))  # written by another process (or writer) since it was opened
    try:
        client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as e:
        raise IndexCorruptError(f"The index at {path} cannot be opened ({e}); {_REBUILD}.") from e
    _CLIENT_GEN[str(path)] = gen
    return client


def _to_sentence(meta: dict[str, Any], doc: str) -> Sentence:
    return Sentence(str(meta["file"]), int(meta["n"]), int(meta["start"]), int(meta["end"]), doc)


class Store:
    """Read and write access to the sentence index.

    `create=True` is the writer's store (opened inside `writer_lock`, creating the collections); any
    other store is a reader, which coordinates with writers in other processes (see the module doc).
    """

    def __init__(self, settings: Settings, embed_name: str, embed_dim: int, create: bool = False) -> None:
        self._settings = settings
        self.embed_name = embed_name
        self.embed_dim = embed_dim
        self._local = not settings.chroma_url
        self._writer = create
        self._gen = ""
        self._manifest_seen: dict[str, str] | None = None
        self._count_seen: int | None = None
        self._snapshot: tuple[list[Sentence], np.ndarray] | None = None
        if self._local and not create:
            with _rw_lock(settings, fcntl.LOCK_EX, OPEN_WAIT_S) as held:
                if not held:
                    raise IndexLockedError(_WRITING)
                self._open(create)
        else:
            self._open(create)

    def _open(self, create: bool) -> None:
        """Check the files, open Chroma and the two collections, check the stamp, and read a count from
        each collection (which makes Chroma load its vector segments now, not on the first question)."""
        if self._local:
            self._gen = generation(self._settings)
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
            self._files = self._client.get_or_create_collection(
                FILES, metadata={"schema": SCHEMA}, embedding_function=None
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
        self._chroma(lambda: self._files.count())
        self._count_seen = self._chroma(lambda: int(self._sent.count()))

    # ---- coordination -----------------------------------------------------------------------------------
    @staticmethod
    def _chroma(call: Callable[[], T]) -> T:
        """Run one Chroma call; what it raises (a damaged file found late) becomes IndexCorruptError."""
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
        """True: Chroma may be read now (current generation, shared lock held for the block). False: a
        writer holds the store, answer from the snapshot."""
        if self._writer or not self._local:
            yield True
            return
        if generation(self._settings) != self._gen:
            # Another process wrote since this store was opened: reopen, unless it is still writing.
            with _rw_lock(self._settings, fcntl.LOCK_EX, 0) as held:
                if held:
                    self._open(create=False)
        with _rw_lock(self._settings, fcntl.LOCK_SH, 0) as held:
            yield held and generation(self._settings) == self._gen

    def _read_manifest(self) -> dict[str, str]:
        got = self._chroma(lambda: self._files.get(include=["metadatas"]))
        self._manifest_seen = {
            i: str(m["version"]) for i, m in zip(got["ids"], got["metadatas"] or [], strict=False)
        }
        return dict(self._manifest_seen)

    def _seen(self, value: T | None) -> T:
        """What was read last, while a writer holds the store; IndexLockedError if nothing was."""
        if value is None:
            raise IndexLockedError(_WRITING)
        return value

    # ---- manifest -------------------------------------------------------------------------------------
    def manifest(self) -> dict[str, str]:
        """Committed articles: file → version (content hash)."""
        with self._reading() as live:
            if live:
                return self._read_manifest()
        return dict(self._seen(self._manifest_seen))

    def count(self) -> int:
        """Number of sentence records (including any not yet committed)."""
        with self._reading() as live:
            if live:
                self._count_seen = self._chroma(lambda: int(self._sent.count()))
        return self._seen(self._count_seen)

    # ---- writes ---------------------------------------------------------------------------------------
    def put_article(
        self, file: str, version: str, sentences: Sequence[Sentence], vectors: np.ndarray
    ) -> None:
        """Write one article's sentences, then commit it in the manifest, then drop its old version."""
        for b in range(0, len(sentences), 1000):
            chunk = sentences[b : b + 1000]
            self._sent.upsert(
                ids=[f"{s.id}@{version[:16]}" for s in chunk],
                embeddings=vectors[b : b + 1000].tolist(),
                documents=[s.text for s in chunk],
                metadatas=[
                    {
                        "sid": s.id,
                        "file": s.file,
                        "n": s.n,
                        "start": s.start,
                        "end": s.end,
                        "version": version,
                    }
                    for s in chunk
                ],
            )
        self._files.upsert(
            ids=[file], embeddings=[[1.0]], metadatas=[{"version": version, "sentences": len(sentences)}]
        )
        self._sent.delete(where={"$and": [{"file": file}, {"version": {"$ne": version}}]})

    def remove_article(self, file: str) -> None:
        """Uncommit an article (it disappears for readers at once), then delete its sentences."""
        self._files.delete(ids=[file])
        self._sent.delete(where={"file": file})

    def sweep(self) -> int:
        """Delete sentence records that no manifest entry commits (left by an interrupted run)."""
        committed = self._read_manifest()
        got = self._sent.get(include=["metadatas"])
        stale = [
            i
            for i, m in zip(got["ids"], got["metadatas"] or [], strict=False)
            if committed.get(str(m["file"])) != m["version"]
        ]
        for b in range(0, len(stale), 5000):
            self._sent.delete(ids=stale[b : b + 5000])
        return len(stale)

    # ---- reads ----------------------------------------------------------------------------------------
    def all_sentences(self) -> tuple[list[Sentence], np.ndarray]:
        """Every committed evidence sentence in file then sentence order, with its vectors (rows align)."""
        with self._reading() as live:
            if live:
                committed = self._read_manifest()
                got = self._chroma(lambda: self._sent.get(include=["metadatas", "documents", "embeddings"]))
                rows = [
                    (_to_sentence(m, d), v)
                    for m, d, v in zip(
                        got["metadatas"] or [],
                        got["documents"] or [],
                        got["embeddings"] if got["embeddings"] is not None else [],
                        strict=False,
                    )
                    if committed.get(str(m["file"])) == m["version"]
                ]
                rows.sort(key=lambda r: (r[0].file, r[0].n))
                vecs = np.asarray([r[1] for r in rows], dtype=np.float32).reshape(len(rows), self.embed_dim)
                self._snapshot = ([r[0] for r in rows], vecs)
        sentences, vectors = self._seen(self._snapshot)
        return list(sentences), vectors

    def query(self, vector: np.ndarray, k: int) -> list[StoredHit]:
        """Top-k committed sentences by cosine similarity."""
        with self._reading() as live:
            if live:
                committed = self._read_manifest()
                n = min(k, self._chroma(lambda: int(self._sent.count())))
                if n == 0:
                    return []
                got = self._chroma(
                    lambda: self._sent.query(
                        query_embeddings=[vector.tolist()],
                        n_results=n,
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
        return self._snapshot_query(vector, k)

    def _snapshot_query(self, vector: np.ndarray, k: int) -> list[StoredHit]:
        """Exact cosine search over the last snapshot (vectors are unit length), while a writer runs."""
        sentences, vectors = self._seen(self._snapshot)
        if not sentences:
            return []
        sims = vectors @ np.asarray(vector, dtype=np.float32)
        top = np.argsort(-sims, kind="stable")[:k]
        return [StoredHit(sentences[i], float(sims[i])) for i in top]


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
            _bump_generation(settings)
            yield
    finally:
        os.close(fd)
