"""The worker process that reads hostile files, and `Reader`, which feeds it.

Files other than .txt are read by a separate worker process (`python -m index.extract`) that has a memory
limit (RLIMIT_AS), and each file a time limit: a file that takes too long, or needs too much memory, or
crashes the library, kills only the worker. That file is skipped with the reason, a fresh worker reads the
next one.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from index.extract.dispatch import extract_bytes
from index.extract.formats import LABELS, Extracted, ExtractError, Limits, stamp
from index.extract.pdf import text_pdf
from index.extract.text import read_txt

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

T = TypeVar("T")

# What the worker imports as it starts, for the formats of the folder (while the indexer loads its model).
_IMPORTS: dict[str, tuple[str, ...]] = {
    "md": ("markdown_it", "yaml"),
    "html": ("trafilatura",),
    "pdf": ("pypdf",),
    "docx": ("docx",),
}
# The longest a fresh worker may take to import its libraries before the first file is sent.
_START_S = 60.0


def _to_json(x: Extracted) -> dict[str, Any]:
    return asdict(x)


def _from_json(d: dict[str, Any]) -> Extracted:
    return Extracted(
        text=d["text"],
        format=d["format"],
        title=d.get("title", ""),
        date=d.get("date", ""),
        pages=tuple(int(p) for p in d.get("pages", ())),
        stamp=d.get("stamp", ""),
        warnings=tuple(d.get("warnings", ())),
    )


def serve(fd_in: int, fd_out: int, memory_mb: int, formats: str) -> None:
    """The worker: limit its own memory, import the libraries for `formats`, say "ready", then answer each
    (header, raw bytes) with {"ok", "extracted" or "reason", "seconds"}."""
    import importlib
    import resource
    from multiprocessing.connection import Connection

    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    logging.disable(logging.CRITICAL)
    conn_in, conn_out = Connection(fd_in, writable=False), Connection(fd_out, readable=False)
    for fmt in filter(None, formats.split(",")):
        # Import the library and read a small sample once: a library's first file costs it several times
        # its next (lazy set-up); paid here, while the indexer loads its model. A library that fails
        # says so when a file of its format is read.
        with contextlib.suppress(Exception):
            for module in _IMPORTS.get(fmt, ()):
                importlib.import_module(module)
            extract_bytes(fmt, _sample(fmt))
    conn_out.send_bytes(b"ready")
    while True:
        try:
            header = json.loads(conn_in.recv_bytes())
            raw = conn_in.recv_bytes()
        except (EOFError, OSError):
            return  # the indexer closed the pipe (or died): nothing more to read
        t0 = time.perf_counter()
        answer: dict[str, Any] = {"ok": False}
        fatal = False
        try:
            got = extract_bytes(header["format"], raw, Limits(max_pdf_pages=int(header["max_pdf_pages"])))
            answer = {"ok": True, "extracted": _to_json(got)}
        except ExtractError as e:
            answer["reason"] = str(e)
        except MemoryError:
            answer["reason"] = _memory_reason(memory_mb)
            fatal = True  # the heap may be in a bad state: a fresh worker reads the next file
        except Exception as e:  # a library bug on one file skips that file, with what it said
            what = LABELS.get(header["format"], "")
            answer["reason"] = f"the {what} reader failed ({type(e).__name__}: {str(e)[:160]})"
        del raw
        answer["seconds"] = time.perf_counter() - t0
        conn_out.send_bytes(json.dumps(answer, ensure_ascii=False).encode("utf-8"))
        if fatal:
            return


def _sample(fmt: str) -> bytes:
    """A small valid file of format `fmt`, to warm its reader."""
    words = "The worker reads this sample once, so the first real file of its kind is read at full speed."
    if fmt == "html":
        page = f"<html><head><title>Sample</title></head><body><article><p>{words}</p></article></body>"
        return page.encode()
    if fmt == "pdf":
        return text_pdf(1, words)
    if fmt == "docx":
        import docx

        d = docx.Document()
        d.add_paragraph(words)
        buf = io.BytesIO()
        d.save(buf)
        return buf.getvalue()
    return f"# Sample\n\n{words}\n".encode()


def _memory_reason(memory_mb: int) -> str:
    return f"needed more than {memory_mb} MB of memory to read (QA_EXTRACT_MEMORY_MB)"


@dataclass(frozen=True)
class Read:
    """One file's outcome from `Reader.read_all`: the text read or why not, and the seconds reading took
    (in the worker, for formats other than .txt)."""

    extracted: Extracted | None
    reason: str | None
    seconds: float


class Reader:
    """Reads files into `Extracted`, each non-.txt file in a worker process with a memory limit and a
    per-file time limit. Use as a context manager. `start` launches the worker early, so it imports its
    libraries while the caller does other work; otherwise it starts on the first file that needs it.

    A file that runs out of time, out of memory or crashes the worker is refused with the reason; the
    worker is replaced, so the next file is read as if nothing happened.
    """

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._proc: subprocess.Popen[bytes] | None = None
        self._conn_in: Connection | None = None
        self._conn_out: Connection | None = None
        self._ready = False
        self._formats: tuple[str, ...] = ()
        self._deadline: float | None = None  # set while a file is in the worker
        self.started = 0  # workers started (1 unless a file had to be stopped by killing one)

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self, formats: Iterable[str]) -> None:
        """Start the worker now (if any of `formats` needs it), importing those formats' libraries."""
        self._formats = tuple(sorted(set(formats) - {"txt"}))
        if self._formats and self._proc is None:
            self._spawn()

    def read(self, fmt: str, raw: bytes) -> Extracted:
        """The text of `raw` read as `fmt`; ExtractError with the reason when it cannot be used."""
        if fmt == "txt":
            return read_txt(raw)
        self._submit(fmt, raw)
        got = self._collect()
        if got.extracted is None:
            raise ExtractError(got.reason or "unreadable")
        return got.extracted

    def read_all(self, items: Iterable[tuple[T, str, bytes | str]]) -> Iterator[tuple[T, Read]]:
        """Read each (key, format, raw bytes) in order; a str instead of bytes is a reason the file already
        cannot be used, passed through. While the caller handles one result, the worker is already reading
        the next file (its time limit runs from when it was sent)."""
        held: list[T] = []  # the key of the file in the worker, if one is
        for key, fmt, raw in items:
            done: list[tuple[T, Read]] = []
            if held:
                done.append((held.pop(), self._collect()))
            if isinstance(raw, str):
                done.append((key, Read(None, raw, 0.0)))
            elif fmt == "txt":
                t0 = time.perf_counter()
                try:
                    done.append((key, Read(read_txt(raw), None, time.perf_counter() - t0)))
                except ExtractError as e:
                    done.append((key, Read(None, str(e), time.perf_counter() - t0)))
            else:
                try:
                    self._submit(fmt, raw)
                    held.append(key)
                except ExtractError as e:
                    done.append((key, Read(None, str(e), 0.0)))
            yield from done
        if held:
            yield held.pop(), self._collect()

    # ---- the worker ---------------------------------------------------------------------------------
    def _submit(self, fmt: str, raw: bytes) -> None:
        """Send one file to the worker (starting one if needed); its time limit starts now."""
        if len(raw) > self.limits.max_file_bytes:
            raise ExtractError(f"larger than {self.limits.max_file_bytes / 1024 / 1024:g} MB")
        if fmt not in self._formats:
            self._formats = tuple(sorted({*self._formats, fmt}))
        conn_out, conn_in = self._spawn()
        if not self._ready:
            try:
                if not conn_in.poll(max(_START_S, self.limits.timeout_s)) or conn_in.recv_bytes() != b"ready":
                    raise EOFError
            except (EOFError, OSError) as e:
                code = self._kill()
                raise ExtractError(
                    f"the reader process did not start (exit status {code}); with QA_EXTRACT_MEMORY_MB="
                    f"{self.limits.memory_mb} it may lack the memory to load its libraries"
                ) from e
            self._ready = True
        header = {"format": fmt, "max_pdf_pages": self.limits.max_pdf_pages}
        try:
            conn_out.send_bytes(json.dumps(header).encode())
            conn_out.send_bytes(raw)
        except OSError as e:
            self._kill()
            raise ExtractError(f"the reader process failed ({e})") from e
        self._deadline = time.monotonic() + self.limits.timeout_s

    def _collect(self) -> Read:
        """Wait (until its deadline) for the file in the worker."""
        assert self._deadline is not None and self._conn_in is not None
        deadline, self._deadline = self._deadline, None
        t0 = time.monotonic()
        try:
            if not self._conn_in.poll(max(0.0, deadline - t0)):
                self._kill()
                return Read(
                    None,
                    f"took longer than {self.limits.timeout_s:g} s to read, so it was stopped "
                    "(QA_EXTRACT_TIMEOUT_S)",
                    self.limits.timeout_s,
                )
            answer = json.loads(self._conn_in.recv_bytes())
        except (EOFError, OSError, ValueError):
            code = self._kill()
            return Read(
                None,
                f"the reader process died reading it (exit status {code}); it probably needed more than "
                f"{self.limits.memory_mb} MB of memory (QA_EXTRACT_MEMORY_MB)",
                time.monotonic() - t0,
            )
        seconds = float(answer.get("seconds", 0.0))
        if self._proc is not None and self._proc.poll() is not None:
            self._kill()  # it exited after answering (out of memory): a fresh one reads the next file
        if answer.get("ok"):
            # Stamped here, not in the worker: the stamp names the reader this process expects.
            got = _from_json(answer["extracted"])
            return Read(replace(got, stamp=stamp(got.format)), None, seconds)
        return Read(None, str(answer.get("reason") or "unreadable"), seconds)

    def _spawn(self) -> tuple[Connection, Connection]:
        from multiprocessing.connection import Connection

        if self._proc is not None and self._proc.poll() is None and self._conn_in and self._conn_out:
            return self._conn_out, self._conn_in
        self._kill()
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        args = [str(to_child_r), str(from_child_w), str(self.limits.memory_mb), ",".join(self._formats)]
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "index.extract", *args],
                pass_fds=(to_child_r, from_child_w),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
                cwd=root,
            )
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self.started += 1
        self._ready = False
        self._conn_out = Connection(to_child_w, readable=False)
        self._conn_in = Connection(from_child_r, writable=False)
        return self._conn_out, self._conn_in

    def _kill(self) -> int | None:
        """Stop the worker (if any) at once and return its exit status."""
        code = None
        for conn in (self._conn_out, self._conn_in):
            if conn is not None:
                conn.close()
        self._conn_out = self._conn_in = None
        self._deadline = None
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            code = self._proc.wait()
            self._proc = None
        return code

    def close(self) -> None:
        """End the worker: close its pipe (an idle worker exits on end of input); one still busy (or still
        importing, if no file needed it) is killed."""
        proc = self._proc
        busy = self._deadline is not None or not self._ready
        for conn in (self._conn_out, self._conn_in):
            if conn is not None:
                conn.close()
        self._conn_out = self._conn_in = None
        self._deadline = None
        if proc is not None:
            try:
                if busy:
                    raise subprocess.TimeoutExpired(proc.args, 0)
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            self._proc = None
