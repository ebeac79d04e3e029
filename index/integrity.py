"""Cheap checks of an on-disk Chroma store, run before Chroma itself reads the files.

Chroma opens a garbled store lazily: a truncated SQLite file fails at once, but a page overwritten in the
middle goes unnoticed until a query touches it, and a garbled HNSW segment file crashes the whole process
(a segmentation fault inside hnswlib, which follows neighbour ids without bounds checks) on the first
query. So the store is checked here, in Python, before Chroma loads anything: SQLite's own `quick_check`,
then the structure of every HNSW segment (header fields that must agree, file sizes, every neighbour id in
range, every vector finite). Each failure is an IndexCorruptError that names `qa index --rebuild`.

The HNSW layout is that of hnswlib's `saveIndex` as Chroma 1.5 (pinned in pyproject.toml) persists it:
`header.bin` (the fields below), `data_level0.bin` (per element: a link count, `maxM0` neighbour ids, the
vector, a 64-bit label), `link_lists.bin` (per element: a byte size, then that many bytes of upper-level
link blocks, each a count and `maxM` ids) and `length.bin` (per element: the vector's norm, a float32).
"""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

import numpy as np

from index.errors import IndexCorruptError

REBUILD = "run `qa index --rebuild` to rebuild it"
# version, offsetLevel0, max_elements, cur_element_count, size_data_per_element, label_offset, offsetData,
# maxlevel, enterpoint_node, maxM, maxM0, M, mult, ef_construction
_HEADER = struct.Struct("<IQQQQQQiIQQQdQ")


def check_sqlite(db: Path) -> None:
    """SQLite's `quick_check` (b-tree structure of every table and index; linear in the file size).

    Opened read-write on purpose: a hot journal left by a killed writer must be rolled back first, which
    a read-only connection cannot do. The caller holds the store's exclusive lock, so nothing else writes.
    """
    if not db.is_file():
        return
    try:
        con = sqlite3.connect(str(db), timeout=10)
        try:
            rows = con.execute("PRAGMA quick_check").fetchall()
        finally:
            con.close()
    except sqlite3.Error as e:
        raise IndexCorruptError(f"The index database {db} cannot be read ({e}); {REBUILD}.") from e
    if rows != [("ok",)]:
        first = str(rows[0][0]).replace("\n", " ") if rows else "no answer"
        raise IndexCorruptError(f"The index database {db} is damaged ({first[:160]}); {REBUILD}.")


def _bad(segment: Path, why: str) -> IndexCorruptError:
    return IndexCorruptError(f"The index's vector segment {segment.name} is damaged ({why}); {REBUILD}.")


def check_hnsw(segment: Path) -> None:
    """Check one HNSW segment folder; raise IndexCorruptError on the first inconsistency."""
    header = segment / "header.bin"
    if not header.is_file():
        return  # not persisted yet: Chroma rebuilds it from its log
    raw = header.read_bytes()
    if len(raw) != _HEADER.size:
        raise _bad(segment, f"header is {len(raw)} bytes, expected {_HEADER.size}")
    _ver, off0, max_el, cur, size_el, label_off, data_off, max_level, enter, max_m, max_m0, m, _mult, ef = (
        _HEADER.unpack(raw)
    )
    consistent = (
        off0 == 0
        and 0 < m <= 4096
        and max_m == m
        and max_m0 == 2 * m
        and data_off == 4 + 4 * max_m0
        and label_off > data_off
        and (label_off - data_off) % 4 == 0
        and size_el == label_off + 8
        and cur <= max_el < 2**40
        and 0 < ef < 2**20
        and max_level < 64
        and (cur == 0 or (max_level >= 0 and enter < cur))
    )
    if not consistent:
        raise _bad(segment, "header fields disagree")
    data_path = segment / "data_level0.bin"
    size = data_path.stat().st_size if data_path.is_file() else -1
    if size < cur * size_el or size % size_el:
        raise _bad(segment, f"data_level0.bin is {size} bytes for {cur} elements of {size_el}")
    if cur == 0:
        return
    data = np.fromfile(data_path, dtype=np.uint8, count=cur * size_el).reshape(cur, size_el)
    links = data[:, :data_off].copy().view(np.uint32)
    counts = links[:, 0] & 0xFFFF
    if int(counts.max()) > max_m0:
        raise _bad(segment, "a level-0 link count is out of range")
    used = np.arange(max_m0)[None, :] < counts[:, None]
    if used.any() and int(links[:, 1:][used].max()) >= cur:
        raise _bad(segment, "a level-0 neighbour id is out of range")
    vectors = data[:, data_off:label_off].copy().view(np.float32)
    if not np.isfinite(vectors).all():
        raise _bad(segment, "a stored vector is not finite")
    _check_upper_links(segment, cur, max_m, max_level)
    norms_path = segment / "length.bin"
    if norms_path.is_file():
        norms = np.fromfile(norms_path, dtype=np.float32)
        if norms.size < cur or not np.isfinite(norms[:cur]).all():
            raise _bad(segment, "length.bin does not hold a finite norm per element")


def _check_upper_links(segment: Path, cur: int, max_m: int, max_level: int) -> None:
    """`link_lists.bin`: per element a byte size (a whole number of levels, at most `max_level`), then the
    blocks; every count at most `max_m` and every id below `cur`; nothing left over."""
    path = segment / "link_lists.bin"
    raw = path.read_bytes() if path.is_file() else b""
    if len(raw) % 4:
        raise _bad(segment, "link_lists.bin is not a whole number of 32-bit words")
    words = np.frombuffer(raw, dtype=np.uint32)
    block = 1 + max_m  # a count, then max_m ids
    starts: list[int] = []
    pos = 0
    as_list = words.tolist()
    for _ in range(cur):
        if pos >= len(as_list):
            raise _bad(segment, "link_lists.bin ends early")
        nbytes = as_list[pos]
        pos += 1
        if nbytes % (4 * block) or nbytes // (4 * block) > max_level:
            raise _bad(segment, "an upper-level link list has an impossible size")
        for b in range(nbytes // (4 * block)):
            starts.append(pos + b * block)
        pos += nbytes // 4
    if pos != len(as_list):
        raise _bad(segment, "link_lists.bin has bytes past its last element")
    if starts:
        idx = np.asarray(starts)
        blocks = words[idx[:, None] + np.arange(block)[None, :]]
        counts = blocks[:, 0]
        if int(counts.max()) > max_m:
            raise _bad(segment, "an upper-level link count is out of range")
        used = np.arange(max_m)[None, :] < counts[:, None]
        if used.any() and int(blocks[:, 1:][used].max()) >= cur:
            raise _bad(segment, "an upper-level neighbour id is out of range")


def check_store(path: Path) -> None:
    """Check a Chroma persistent folder: the SQLite file, then every HNSW segment folder in it."""
    check_sqlite(path / "chroma.sqlite3")
    if path.is_dir():
        for segment in sorted(p for p in path.iterdir() if p.is_dir()):
            try:
                check_hnsw(segment)
            except OSError as e:
                raise _bad(segment, f"{type(e).__name__}: {e}") from e
