"""The committed sentences and their vectors as memory-mapped reader files, so a reader holds none in RAM.

A reader (a `qa serve` replica) needs every committed sentence by id, its neighbours in its file, and, while
a writer holds the store, the vectors for an exact search (index/snapshot.py). Dense search stays in Chroma.
So the committed set is written once to `<data dir>/readers/<key>/` and memory-mapped:

- `rows.npy`: int64 rows (file number, n, start, end), in file then sentence order;
- `offsets.npy` and `text.bin`: sentence i's UTF-8 text is `text.bin[offsets[i]:offsets[i + 1]]`;
- `vectors.npy`: float32 unit vectors, rows aligned;
- `meta.json`: the manifest the files are consistent with, and the file names in order.

`key` is a digest of the embedding model and the manifest (file → version), so every reader of the same
committed index, in any process and after a restart, finds the same files, and a commit makes a new key.
The files are written to a temporary folder and renamed into place, so a reader sees them whole or not at
all; folders of other keys are removed (a process that still maps one keeps reading it). The pages of the
files belong to the page cache: what a reader touches is shared between replicas and reclaimable.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
import weakref
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, overload

import numpy as np

from index.sentences import Sentence
from index.settings import IndexSettings

FORMAT = 1  # changes when the layout of the files does
STALE_TMP_S = 3600.0


def key(embed_name: str, manifest: Mapping[str, str]) -> str:
    """The reader files' key for a committed index: its embedding model and manifest."""
    h = hashlib.sha256(f"{FORMAT}\n{embed_name}\n".encode())
    for file in sorted(manifest):
        h.update(f"{file}\t{manifest[file]}\n".encode())
    return h.hexdigest()[:24]


def folder(settings: IndexSettings) -> Path:
    """Where the reader files live (local to this machine, also with a Chroma server)."""
    return settings.data_dir / "readers"


class SentenceTable(Sequence[Sentence]):
    """The committed sentences of one reader-files folder, read from the mapped files when asked for."""

    def __init__(self, path: Path) -> None:
        self.path = path
        meta = json.loads((path / "meta.json").read_text("utf-8"))
        self.manifest: dict[str, str] = dict(meta["manifest"])
        self.files: list[str] = list(meta["files"])
        self._rows = np.load(path / "rows.npy", mmap_mode="r")
        self._offsets = np.load(path / "offsets.npy", mmap_mode="r")
        self.vectors: np.ndarray = np.load(path / "vectors.npy", mmap_mode="r")
        # Text and single vectors are read with pread, not through a mapping: a page fault maps the pages
        # around the one asked for too, so scattered reads would make most of the file resident.
        self._text_fd = os.open(path / "text.bin", os.O_RDONLY)
        self._vector_fd = os.open(path / "vectors.npy", os.O_RDONLY)
        weakref.finalize(self, os.close, self._text_fd)
        weakref.finalize(self, os.close, self._vector_fd)
        self._ranges: dict[str, tuple[int, int]] = {}
        bounds = np.searchsorted(self._rows[:, 0], np.arange(len(self.files) + 1)) if len(self) else None
        for f, name in enumerate(self.files):
            if bounds is not None:
                self._ranges[name] = (int(bounds[f]), int(bounds[f + 1]))

    def __len__(self) -> int:
        return int(self._rows.shape[0])

    @overload
    def __getitem__(self, i: int) -> Sentence: ...
    @overload
    def __getitem__(self, i: slice) -> list[Sentence]: ...
    def __getitem__(self, i: int | slice) -> Sentence | list[Sentence]:
        if isinstance(i, slice):
            first, end, step = i.indices(len(self))
            return (
                self._run(first, end)
                if step == 1
                else [self._run(j, j + 1)[0] for j in range(first, end, step)]
            )
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._run(i, i + 1)[0]

    def __iter__(self) -> Iterator[Sentence]:
        for b in range(0, len(self), 4096):
            yield from self._run(b, min(b + 4096, len(self)))

    def _run(self, first: int, end: int) -> list[Sentence]:
        """Rows [first, end) as Sentences (one conversion of the rows, not one per field)."""
        if first >= end:
            return []
        offsets = self._offsets[first : end + 1].tolist()
        base, files = offsets[0], self.files
        text = os.pread(self._text_fd, offsets[-1] - base, base)
        return [
            Sentence(
                files[f], n, start, stop, text[offsets[j] - base : offsets[j + 1] - base].decode("utf-8")
            )
            for j, (f, n, start, stop) in enumerate(self._rows[first:end].tolist())
        ]

    def vector(self, i: int) -> np.ndarray:
        """Row i's vector, read from the file."""
        size = self.vectors.shape[1] * 4
        offset = int(getattr(self.vectors, "offset", 0)) + i * size
        return np.frombuffer(os.pread(self._vector_fd, size, offset), dtype=np.float32)

    def sid(self, i: int) -> str:
        """The id of row i, without reading its text."""
        return f"{self.files[int(self._rows[i, 0])]}#{int(self._rows[i, 1])}"

    def range_of(self, file: str) -> tuple[int, int]:
        """Rows [first, end) of one file's sentences ((0, 0) for a file with none)."""
        return self._ranges.get(file, (0, 0))

    def position(self, sid: str) -> int | None:
        """The row of a sentence id `<file>#<n>`, or None."""
        file, _, n = sid.rpartition("#")
        first, end = self._ranges.get(file, (0, 0))
        if first == end or not n.isdigit():
            return None
        ns = self._rows[first:end, 1]
        j = int(np.searchsorted(ns, int(n)))
        return first + j if j < len(ns) and int(ns[j]) == int(n) else None


def open_table(settings: IndexSettings, embed_name: str, manifest: Mapping[str, str]) -> SentenceTable | None:
    """The reader files for this committed index, if some process wrote them already."""
    path = folder(settings) / key(embed_name, manifest)
    try:
        return SentenceTable(path)
    except (OSError, ValueError):  # not written yet, or removed meanwhile for a newer commit's
        return None


def latest(settings: IndexSettings) -> SentenceTable | None:
    """The reader files written last (for an earlier commit, as a rule), to copy unchanged articles from."""
    root = folder(settings)
    done = [p for p in root.iterdir() if not p.name.startswith(".")] if root.exists() else []
    for p in sorted(done, key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            return SentenceTable(p)
        except (OSError, ValueError):
            continue
    return None


class Writer:
    """Builds one reader-files folder from pages of (sentence, vector), in any order."""

    def __init__(self, settings: IndexSettings, dim: int) -> None:
        self._settings = settings
        self._dim = dim
        self._tmp = folder(settings) / f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._open_files: tuple[BinaryIO, ...] = ()
        self.restart()

    def restart(self) -> None:
        """Forget what was added (the store reads again)."""
        for f in self._open_files:
            f.close()
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._tmp.mkdir(parents=True)
        self._files: dict[str, int] = {}
        self._cols = [array("q") for _ in range(4)]  # file number, n, start, end
        self._lengths = array("q")
        self._text = (self._tmp / "read-order.bin").open("wb")
        self._vecs = (self._tmp / "read-order.f32").open("wb")
        self._open_files = (self._text, self._vecs)

    def add(self, page: Sequence[tuple[Sentence, Any]]) -> None:
        """Append one page of committed sentences and their vectors."""
        for s, _ in page:
            data = s.text.encode("utf-8")
            for col, value in zip(
                self._cols,
                (self._files.setdefault(s.file, len(self._files)), s.n, s.start, s.end),
                strict=True,
            ):
                col.append(value)
            self._lengths.append(len(data))
            self._text.write(data)
        if page:
            self._vecs.write(
                np.asarray([v for _, v in page], dtype=np.float32).reshape(len(page), self._dim).tobytes()
            )

    def copy(self, previous: SentenceTable, files: Iterable[str]) -> None:
        """Append every sentence and vector of `files` from earlier reader files, without reading them."""
        for file in files:
            first, end = previous.range_of(file)
            if first == end:
                continue
            f = self._files.setdefault(file, len(self._files))
            rows = np.asarray(previous._rows[first:end])
            for col, values in zip(
                self._cols, (np.full(end - first, f), rows[:, 1], rows[:, 2], rows[:, 3]), strict=True
            ):
                col.extend(values.tolist())
            offsets = np.asarray(previous._offsets[first : end + 1])
            self._lengths.extend(np.diff(offsets).tolist())
            self._text.write(os.pread(previous._text_fd, int(offsets[-1] - offsets[0]), int(offsets[0])))
            self._vecs.write(np.ascontiguousarray(previous.vectors[first:end], dtype=np.float32).tobytes())

    def finish(self, embed_name: str, manifest: Mapping[str, str]) -> SentenceTable:
        """Sort into file then sentence order, write the files, rename them into place, open them. (The
        caller prunes the earlier ones when it no longer reads them.)"""
        self._text.close()
        self._vecs.close()
        names = sorted(self._files)
        rank = np.zeros(len(names), np.int64)
        for r, name in enumerate(names):
            rank[self._files[name]] = r
        raw = (
            np.stack([np.frombuffer(c, dtype=np.int64) for c in self._cols], axis=1)
            if len(self._lengths)
            else np.zeros((0, 4), np.int64)
        )
        raw[:, 0] = rank[raw[:, 0]] if len(raw) else raw[:, 0]
        order = np.lexsort((raw[:, 1], raw[:, 0]))
        lengths = (
            np.frombuffer(self._lengths, dtype=np.int64) if len(self._lengths) else np.zeros(0, np.int64)
        )
        starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        np.save(self._tmp / "rows.npy", raw[order])
        np.save(self._tmp / "offsets.npy", np.concatenate([[0], np.cumsum(lengths[order])]).astype(np.int64))
        n = len(order)
        src = np.memmap(self._tmp / "read-order.bin", dtype=np.uint8, mode="r") if starts[-1] else None
        with (self._tmp / "text.bin").open("wb") as out:
            for i in order:
                if src is not None:
                    out.write(src[starts[i] : starts[i + 1]].tobytes())
        vecs_in = (
            np.memmap(self._tmp / "read-order.f32", dtype=np.float32, mode="r", shape=(n, self._dim))
            if n
            else None
        )
        vecs_out = np.lib.format.open_memmap(
            self._tmp / "vectors.npy", mode="w+", dtype=np.float32, shape=(n, self._dim)
        )
        for b in range(0, n, 8192):
            assert vecs_in is not None
            vecs_out[b : b + 8192] = vecs_in[order[b : b + 8192]]
        vecs_out.flush()
        del src, vecs_in, vecs_out
        (self._tmp / "read-order.bin").unlink()
        (self._tmp / "read-order.f32").unlink()
        (self._tmp / "meta.json").write_text(
            json.dumps({"manifest": dict(manifest), "files": names}), "utf-8"
        )
        final = folder(self._settings) / key(embed_name, manifest)
        try:
            os.rename(self._tmp, final)
        except OSError:  # another reader wrote the same files first
            shutil.rmtree(self._tmp, ignore_errors=True)
        return SentenceTable(final)

    def abandon(self) -> None:
        """Remove what was written (nothing was read)."""
        for f in self._open_files:
            f.close()
        shutil.rmtree(self._tmp, ignore_errors=True)


def prune(settings: IndexSettings, keep: str) -> None:
    """Remove the reader files of every other key, and temporary folders left an hour ago (by a process
    that was killed while it wrote them)."""
    root = folder(settings)
    for p in root.iterdir() if root.exists() else ():
        stale = not p.name.startswith(".tmp-") or time.time() - p.stat().st_mtime > STALE_TMP_S
        if p.name != keep and stale:
            shutil.rmtree(p, ignore_errors=True)
