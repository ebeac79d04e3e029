"""The sentence store: Chroma on disk (or a Chroma server), stamped with the embedding model.

Layout: collection `qa_sentences` holds one record per evidence sentence, id `<file>#<n>@<version>`, with
metadata `sid, file, n, start, end, version`. Collection `qa_files` is the manifest: one record per
article, id = file, metadata `version` (content hash) and `sentences`. A reader trusts a sentence only if
its `version` is the one the manifest names, so an article whose indexing was interrupted is invisible
(fully out) until its manifest record is written (fully in).
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator, Sequence
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


def _to_sentence(meta: dict[str, Any], doc: str) -> Sentence:
    return Sentence(str(meta["file"]), int(meta["n"]), int(meta["start"]), int(meta["end"]), doc)


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

    # ---- manifest -------------------------------------------------------------------------------------
    def manifest(self) -> dict[str, str]:
        """Committed articles: file → version (content hash)."""
        try:
            got = self._files.get(include=["metadatas"])
        except Exception as e:
            raise IndexCorruptError(f"The index manifest cannot be read ({e}); {_REBUILD}.") from e
        return {i: str(m["version"]) for i, m in zip(got["ids"], got["metadatas"] or [], strict=False)}

    def count(self) -> int:
        """Number of sentence records (including any not yet committed)."""
        return int(self._sent.count())

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
        committed = self.manifest()
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
        committed = self.manifest()
        got = self._sent.get(include=["metadatas", "documents", "embeddings"])
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
        return [r[0] for r in rows], vecs

    def query(self, vector: np.ndarray, k: int) -> list[StoredHit]:
        """Top-k committed sentences by cosine similarity."""
        committed = self.manifest()
        n = min(k, self.count())
        if n == 0:
            return []
        got = self._sent.query(
            query_embeddings=[vector.tolist()], n_results=n, include=["metadatas", "documents", "distances"]
        )
        hits = []
        for m, d, dist in zip(got["metadatas"][0], got["documents"][0], got["distances"][0], strict=False):
            if committed.get(str(m["file"])) == m["version"]:
                hits.append(StoredHit(_to_sentence(m, d), 1.0 - float(dist)))
        return hits


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
