"""The Chroma adapter: clients, the two collections (opened and stamp-checked), record ids, paged reads
and manifest records.

Layout: collection `qa_sentences` holds one record per evidence sentence, id `<file>#<n>@<version>`, with
metadata `sid, file, n, start, end, version` (and `page` for a PDF). Collection `qa_files` is the manifest:
one record per article, id = file, metadata `version` (content hash of the raw file), `sentences`, and what
the reader said (`stamp`: which reader and library produced the text, `format`, `title`, `date`, `pages`:
each page's start offset as JSON); its document is the text read from the file, which every sentence span
indexes. The manifest collection's own metadata carries a `generation` token that every writer changes
after each commit.

Reads of whole collections are paged: SQLite, under Chroma, refuses a single read of more than ~32k
records ("too many SQL variables").
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

from index.errors import IndexCorruptError, IndexMismatchError, IndexMissingError, QAError
from index.extract import Extracted
from index.integrity import REBUILD, check_store
from index.lock import disk_generation
from index.sentences import Sentence
from index.settings import IndexSettings

SENTENCES = "qa_sentences"
FILES = "qa_files"
SCHEMA = 1
PAGE = 5000  # records per read: well under SQLite's limit on variables per statement
T = TypeVar("T")
# The disk generation each cached Chroma client (chromadb keeps one per path) was opened at.
_CLIENT_GEN: dict[str, str] = {}


def forget_clients() -> None:
    """Make chromadb open the files afresh for the next client of any path (it caches one System per
    path). Store objects still holding an old client keep working on it until they notice the new
    generation themselves."""
    from chromadb.api.client import Client  # the class every chromadb client is; the method is public

    Client.clear_system_cache()
    _CLIENT_GEN.clear()


def client(settings: IndexSettings) -> Any:
    """A Chroma client: `chromadb.HttpClient` for `QA_CHROMA_URL`, else the on-disk store in the data dir,
    opened afresh when another process wrote since this process last opened it."""
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
        forget_clients()  # another process wrote since chromadb's cached client read the files
    try:
        opened = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as e:
        raise IndexCorruptError(f"The index at {path} cannot be opened ({e}); {REBUILD}.") from e
    _CLIENT_GEN[str(path)] = gen
    return opened


def collection_names(chroma: Any) -> set[str]:
    """Names of the client's collections (older chromadb returned objects, newer returns names)."""
    return {c if isinstance(c, str) else c.name for c in chroma.list_collections()}


def collections(chroma: Any, embed_name: str, embed_dim: int, create: bool) -> tuple[Any, Any]:
    """The sentence and manifest collections of client `chroma`, created when `create`; the sentence
    collection's stamp must name embedding model `embed_name` of dimension `embed_dim`.

    IndexMissingError when there is no index and not `create`, IndexMismatchError on another model,
    IndexCorruptError when Chroma cannot read or open them."""
    try:
        names = collection_names(chroma)
    except Exception as e:
        raise IndexCorruptError(f"The index cannot be read ({type(e).__name__}: {e}); {REBUILD}.") from e
    if SENTENCES not in names and not create:
        raise IndexMissingError("There is no index yet: run `qa index` (or `make run`) first.")
    try:
        sent = chroma.get_or_create_collection(
            SENTENCES,
            metadata={"embed_model": embed_name, "embed_dim": embed_dim, "schema": SCHEMA},
            configuration={"hnsw": {"space": "cosine"}},
            embedding_function=None,
        )
        # Cosine, though its placeholder vectors are never searched: in an l2 segment hnswlib leaves
        # `length.bin` uninitialised (NaN here and there past ~1000 articles), which the integrity
        # check reads as damage; in a cosine segment every norm is written. An existing collection
        # keeps the space it was created with.
        files = chroma.get_or_create_collection(
            FILES,
            metadata={"schema": SCHEMA},
            configuration={"hnsw": {"space": "cosine"}},
            embedding_function=None,
        )
    except Exception as e:
        raise IndexCorruptError(f"The index cannot be opened ({type(e).__name__}: {e}); {REBUILD}.") from e
    meta = sent.metadata or {}
    if meta.get("embed_model") != embed_name or int(meta.get("embed_dim", -1)) != embed_dim:
        raise IndexMismatchError(
            f"The index was built with embedding model {meta.get('embed_model')} "
            f"(dimension {meta.get('embed_dim')}), but {embed_name} (dimension {embed_dim}) "
            f"is configured; {REBUILD}, or set QA_EMBED back."
        )
    return sent, files


def call(fn: Callable[[], T]) -> T:
    """Run one Chroma call; what it raises (damage found late) becomes IndexCorruptError."""
    try:
        return fn()
    except QAError:
        raise
    except Exception as e:
        raise IndexCorruptError(
            f"The index cannot be read ({type(e).__name__}: {str(e)[:200]}); {REBUILD}."
        ) from e


def pages(
    collection: Any, include: list[str], where: Mapping[str, Any] | None = None
) -> Iterator[dict[str, Any]]:
    """A whole collection (or what `where` selects), PAGE records at a time (one read of it all fails past
    ~32k records)."""
    offset = 0
    while True:
        got = collection.get(include=include, limit=PAGE, offset=offset, where=where)
        yield got
        if len(got["ids"]) < PAGE:
            return
        offset += PAGE


def to_sentence(meta: Mapping[str, Any], doc: str) -> Sentence:
    """A sentence record's metadata and document as a Sentence."""
    return Sentence(str(meta["file"]), int(meta["n"]), int(meta["start"]), int(meta["end"]), doc)


def record_id(sid: str, version: str) -> str:
    """A sentence record's id: the sentence id and the first 16 characters of its article's version."""
    return f"{sid}@{version[:16]}"


def split_record_id(rid: str) -> tuple[str, str, str]:
    """`<file>#<n>@<version16>` → (sid, file, version16)."""
    sid, _, version16 = rid.rpartition("@")
    return sid, sid.rpartition("#")[0], version16


def manifest_meta(version: str, sentences: int, text: Extracted | None) -> dict[str, str | int]:
    """A manifest record's metadata: the version, the sentence count and what the reader said."""
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


def extracted(meta: Mapping[str, Any], doc: str | None) -> Extracted | None:
    """A manifest record's text and reader facts; None for a record written before texts were kept."""
    if doc is None or "format" not in meta:
        return None
    try:
        page_starts = tuple(int(p) for p in json.loads(str(meta.get("pages") or "[]")))
    except (ValueError, TypeError):
        page_starts = ()
    return Extracted(
        text=doc,
        format=str(meta["format"]),
        title=str(meta.get("title") or ""),
        date=str(meta.get("date") or ""),
        pages=page_starts,
        stamp=str(meta.get("stamp") or ""),
    )


def sentence_records(
    articles: Sequence[tuple[str, str, Sequence[Sentence], np.ndarray]],
    texts: Mapping[str, Extracted],
    dim: int,
) -> tuple[list[str], list[str], list[dict[str, str | int]], np.ndarray]:
    """The sentence records of articles (file, version, sentences, vectors): ids, documents, metadata (with
    the page of a PDF's sentence) and the vectors as one matrix."""
    ids: list[str] = []
    docs: list[str] = []
    metas: list[dict[str, str | int]] = []
    vecs: list[np.ndarray] = []
    for file, version, sentences, vectors in articles:
        if len(sentences) != len(vectors):
            raise ValueError(f"{file}: {len(sentences)} sentences but {len(vectors)} vectors")
        text = texts.get(file)
        for s in sentences:
            ids.append(record_id(s.id, version))
            docs.append(s.text)
            meta: dict[str, str | int] = {
                "sid": s.id,
                "file": s.file,
                "n": s.n,
                "start": s.start,
                "end": s.end,
                "version": version,
            }
            page = text.page_at(s.start) if text is not None else None
            if page is not None:
                meta["page"] = page
            metas.append(meta)
        if len(sentences):
            vecs.append(np.asarray(vectors, dtype=np.float32))
    return ids, docs, metas, np.concatenate(vecs) if vecs else np.zeros((0, dim), np.float32)


def _drop_collections(settings: IndexSettings) -> None:
    opened = client(settings)
    for name in (SENTENCES, FILES):
        if name in collection_names(opened):
            opened.delete_collection(name)


def wipe(settings: IndexSettings) -> None:
    """Delete the whole index (used by `--rebuild`, inside `writer_lock`). Works even when the files on
    disk are damaged: then they are removed without letting Chroma read them."""
    if settings.chroma_url:
        _drop_collections(settings)
        return
    path = settings.data_dir / "chroma"
    try:
        check_store(path)
        _drop_collections(settings)
        return
    except Exception:  # noqa: BLE001 - damaged: remove the files below instead
        pass
    forget_clients()
    shutil.rmtree(path, ignore_errors=True)
