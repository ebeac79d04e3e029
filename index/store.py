"""The sentence store: Chroma on disk (or a Chroma server), stamped with the embedding model.

Layout: collection `qa_sentences` holds one record per evidence sentence, id `<file>#<n>@<version>`, with
metadata `sid, file, n, start, end, version`. Collection `qa_files` is the manifest: one record per
article, id = file, metadata `version` (content hash) and `sentences`. A reader trusts a sentence only if
its `version` is the one the manifest names, so an article whose indexing was interrupted is invisible
(fully out) until its manifest record is written (fully in).

The manifest collection's own metadata carries a `generation` token that every writer changes after each
commit, so a reader learns whether the index changed from one small read instead of the whole manifest.

Reads of whole collections are paged: SQLite, under Chroma, refuses a single read of more than ~32k
records ("too many SQL variables").
"""

from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.errors import IndexCorruptError, IndexLockedError, IndexMismatchError, IndexMissingError
from index.sentences import Sentence
from index.settings import Settings

SENTENCES = "qa_sentences"
FILES = "qa_files"
SCHEMA = 1
_REBUILD = "run `qa index --rebuild` to rebuild it"
PAGE = 5000  # records per read: well under SQLite's limit on variables per statement
WRITE_BATCH = 1000  # records per write: Chroma's cost per call is high, its cost per record low
_DELETE_FILES = 50  # articles per "drop old versions" delete
_LOAD_TRIES = 3


@dataclass(frozen=True)
class StoredHit:
    """A dense-retrieval hit: a committed sentence and its cosine similarity to the query."""

    sentence: Sentence
    similarity: float


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
    try:
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as e:
        raise IndexCorruptError(f"The index at {path} cannot be opened ({e}); {_REBUILD}.") from e


def _to_sentence(meta: Mapping[str, Any], doc: str) -> Sentence:
    return Sentence(str(meta["file"]), int(meta["n"]), int(meta["start"]), int(meta["end"]), doc)


def _record_id(sid: str, version: str) -> str:
    return f"{sid}@{version[:16]}"


def _split_record_id(record_id: str) -> tuple[str, str, str]:
    """`<file>#<n>@<version16>` → (sid, file, version16)."""
    sid, _, version16 = record_id.rpartition("@")
    return sid, sid.rpartition("#")[0], version16


class Store:
    """Read and write access to the sentence index."""

    def __init__(self, settings: Settings, embed_name: str, embed_dim: int, create: bool = False) -> None:
        self._settings = settings
        self.embed_name = embed_name
        self.embed_dim = embed_dim
        self._client = _client(settings)
        try:
            names = {c if isinstance(c, str) else c.name for c in self._client.list_collections()}
        except Exception as e:
            raise IndexCorruptError(f"The index cannot be read ({type(e).__name__}: {e}); {_REBUILD}.") from e
        if SENTENCES not in names and not create:
            raise IndexMissingError("There is no index yet: run `qa index` (or `make run`) first.")
        try:
            self._sent = self._client.get_or_create_collection(
                SENTENCES,
                metadata={"embed_model": embed_name, "embed_dim": embed_dim, "schema": SCHEMA},
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
        if meta.get("embed_model") != embed_name or int(meta.get("embed_dim", -1)) != embed_dim:
            raise IndexMismatchError(
                f"The index was built with embedding model {meta.get('embed_model')} "
                f"(dimension {meta.get('embed_dim')}), but {embed_name} (dimension {embed_dim}) is "
                f"configured; {_REBUILD}, or set QA_EMBED back."
            )
        if create and "generation" not in (self._files.metadata or {}):
            self._bump()  # a writer opening an index from before generation tokens: give it one

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
    def _manifest_records(self) -> dict[str, tuple[str, int]]:
        """file → (version, number of sentences), as committed."""
        out: dict[str, tuple[str, int]] = {}
        try:
            for got in self._pages(self._files, ["metadatas"]):
                for i, m in zip(got["ids"], got["metadatas"] or [], strict=False):
                    out[i] = (str(m["version"]), int(m.get("sentences", -1)))
        except Exception as e:
            raise IndexCorruptError(f"The index manifest cannot be read ({e}); {_REBUILD}.") from e
        return out

    def manifest(self) -> dict[str, str]:
        """Committed articles: file → version (content hash)."""
        return {f: v for f, (v, _) in self._manifest_records().items()}

    def generation(self) -> str | None:
        """A token that changes whenever a writer commits or removes an article; None for an index written
        before tokens existed (then only comparing manifests tells). One small read, even on a server."""
        try:
            meta = self._client.get_collection(FILES, embedding_function=None).metadata or {}
        except Exception as e:
            raise IndexCorruptError(f"The index manifest cannot be read ({e}); {_REBUILD}.") from e
        token = meta.get("generation")
        return str(token) if token is not None else None

    def _bump(self) -> None:
        """Tell readers the committed set changed: called after every commit, never before it."""
        self._files.modify(metadata={"schema": SCHEMA, "generation": uuid.uuid4().hex})

    def count(self) -> int:
        """Number of sentence records (including any not yet committed)."""
        return int(self._sent.count())

    # ---- writes ---------------------------------------------------------------------------------------
    def put_article(
        self, file: str, version: str, sentences: Sequence[Sentence], vectors: np.ndarray
    ) -> None:
        """Write one article's sentences, then commit it in the manifest, then drop its old version."""
        self.put_articles([(file, version, sentences, vectors)])

    def put_articles(self, articles: Sequence[tuple[str, str, Sequence[Sentence], np.ndarray]]) -> None:
        """Write several articles (file, version, sentences, vectors) with few store calls: all their
        sentences, then one manifest commit, then their old versions are dropped.

        Each article keeps put_article's guarantee: its sentences are invisible until its manifest record
        is written, so a crash leaves every article fully in or fully out. Chroma pays ~50 ms per write
        call but well under 1 ms per record, so bulk loads should pass many small articles at once.
        """
        if not articles:
            return
        ids: list[str] = []
        docs: list[str] = []
        metas: list[dict[str, str | int]] = []
        vecs: list[np.ndarray] = []
        for file, version, sentences, vectors in articles:
            if len(sentences) != len(vectors):
                raise ValueError(f"{file}: {len(sentences)} sentences but {len(vectors)} vectors")
            for s in sentences:
                ids.append(_record_id(s.id, version))
                docs.append(s.text)
                metas.append(
                    {
                        "sid": s.id,
                        "file": s.file,
                        "n": s.n,
                        "start": s.start,
                        "end": s.end,
                        "version": version,
                    }
                )
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
                metadatas=[{"version": a[1], "sentences": len(a[2])} for a in chunk],
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
    def all_sentences(self) -> tuple[list[Sentence], np.ndarray]:
        """Every committed evidence sentence in file then sentence order, with its vectors (rows align)."""
        _, sentences, vectors = self.load_committed()
        return sentences, vectors

    def load_committed(self) -> tuple[dict[str, str], list[Sentence], np.ndarray]:
        """The manifest and, consistent with it, every committed sentence and its vector.

        Read in pages; if a writer changed the index meanwhile (an article's sentence count disagrees with
        its manifest record), read again.
        """
        for _ in range(_LOAD_TRIES):
            records = self._manifest_records()
            committed = {f: v for f, (v, _) in records.items()}
            sentences, vectors = self._read_committed(committed)
            have: dict[str, int] = {}
            for s in sentences:
                have[s.file] = have.get(s.file, 0) + 1
            if all(n < 0 or have.get(f, 0) == n for f, (_, n) in records.items()):
                break
        return committed, sentences, vectors

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
        got = self._sent.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=k,
            include=["metadatas", "documents", "distances"],
        )
        hits = []
        for m, d, dist in zip(got["metadatas"][0], got["documents"][0], got["distances"][0], strict=False):
            if committed.get(str(m["file"])) == m["version"]:
                hits.append(StoredHit(_to_sentence(m, d), 1.0 - float(dist)))
        return hits

    def query_ids(self, vector: np.ndarray, k: int, committed: Mapping[str, str]) -> list[tuple[str, float]]:
        """Top-k committed sentence ids with their cosine similarity, best first.

        For a caller that holds the sentences already (the Retriever): the ids and distances come back
        without metadata or text, which is most of what a Chroma query costs.
        """
        got = self._sent.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=k, include=["distances"]
        )
        out = []
        for record_id, dist in zip(got["ids"][0], got["distances"][0], strict=False):
            sid, file, version16 = _split_record_id(record_id)
            if version16 and committed.get(file, "")[:16] == version16:
                out.append((sid, 1.0 - float(dist)))
        return out


def wipe(settings: Settings) -> None:
    """Delete the whole index (used by `--rebuild`). Works even when the files on disk are garbled."""
    try:
        client = _client(settings)
        names = {c if isinstance(c, str) else c.name for c in client.list_collections()}
        for name in (SENTENCES, FILES):
            if name in names:
                client.delete_collection(name)
        return
    except Exception:
        if settings.chroma_url:
            raise
    # The store cannot even be opened: remove its files and forget the client chromadb cached for them.
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    shutil.rmtree(settings.data_dir / "chroma", ignore_errors=True)


@contextmanager
def writer_lock(settings: Settings) -> Iterator[None]:
    """Hold the index's writer lock; a second writer gets IndexLockedError at once."""
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
        yield
    finally:
        os.close(fd)
