"""The lock protocol between one writer and any number of reader processes on one on-disk store.

Chroma's embedded mode does not support several processes on one store by itself: a reader that stays open
while another process writes fails with "Error finding id" from then on, and even a reader rewrites the HNSW
files when it opens. So access is coordinated with lock files in the data dir:

- `index.lock`: one writer at a time; a second `qa index` fails at once with "The index is locked".
- `index.rw`: the writer holds it exclusively for its whole run; a reader holds it shared for each read and
  exclusively while it opens the store (index/store.py says what a reader does while it cannot have it).
- `index.gen`: replaced by every writer before it writes, so a reader knows its view of the files is stale.

The locks are `flock(2)` locks, which belong to an open file: two opens of the same file conflict even in one
process, so a second writer in the same process is refused too, and a reader thread never shares or drops the
writer's lock. (`fasteners`' inter-process locks are POSIX `lockf` record locks, which belong to the process:
there a second writer in the same process gets the lock, a reader in the writer's process is let in, and
releasing either releases both; they do not give these guarantees.)
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from index.errors import IndexLockedError
from index.settings import IndexSettings

OPEN_WAIT_S = 3.0  # a reader waits this long for another reader's open (under a second) to finish
WRITER_WAIT_S = 60.0  # the writer waits this long for readers to finish their current read
SHARED = fcntl.LOCK_SH
EXCLUSIVE = fcntl.LOCK_EX


@contextmanager
def rw_lock(settings: IndexSettings, mode: int, wait_s: float) -> Iterator[bool]:
    """Hold `index.rw` in `mode` (SHARED or EXCLUSIVE) for the block; yields False (and holds nothing) when
    it could not be had within `wait_s` seconds."""
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


def disk_generation(settings: IndexSettings) -> str:
    """The store's write generation: changes every time a writer takes the lock ("" before the first)."""
    try:
        return (settings.data_dir / "index.gen").read_text("ascii")
    except (OSError, UnicodeDecodeError):
        return ""


def _bump_disk_generation(settings: IndexSettings) -> None:
    path = settings.data_dir / "index.gen"
    tmp = path.with_name(f"index.gen.{os.getpid()}")
    tmp.write_text(f"{time.time_ns()}-{os.getpid()}", "ascii")
    os.replace(tmp, path)  # atomic: a reader sees the old generation or the new one


@contextmanager
def writer_lock(settings: IndexSettings) -> Iterator[None]:
    """Hold the index's writer lock; a second writer gets IndexLockedError at once. Readers in other
    processes are kept out of the files while it is held (they answer from what they read last)."""
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
        with rw_lock(settings, EXCLUSIVE, WRITER_WAIT_S) as held:
            if not held:
                raise IndexLockedError(
                    f"The index at {settings.data_dir} is being read and could not be locked for writing "
                    f"within {WRITER_WAIT_S:g} s. Try again."
                )
            _bump_disk_generation(settings)
            yield
    finally:
        os.close(fd)
