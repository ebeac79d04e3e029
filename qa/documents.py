"""Adding and removing articles while the service answers: one indexing worker, statuses per article.

`POST /api/documents`, `DELETE /api/documents/{name}`, the chat's documents panel and `qa add` / `qa remove`
all go through `Documents`. A file is saved into the corpus folder under a safe name (index/uploads.py), its
name is queued, and one background thread brings the queued names in line with the folder with the
indexer every `qa index` runs (`index_corpus(..., only=names)`, under the same writer lock; one writer at
a time). Answers go on meanwhile from the committed index (index/snapshot.py): nothing a question does
waits for the writer. An article is `ready` once the answering side has taken in its commit
(`IndexView.indexed`), so `ready` means answerable.

Bad input changes nothing: a file that is not an article, is empty, or is over `QA_MAX_UPLOAD_MB` is
`skipped` and never saved; one the extraction worker cannot read (its time and memory limits) is `skipped`
after indexing and the folder is put back as it was (a replaced article keeps its indexed version). Each
article is committed whole (index/store.py), so a killed process leaves it fully in or fully out; the
names still queued are kept in `<QA_DATA_DIR>/documents-pending.json` and indexed when it starts again.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Literal, Protocol

from pydantic import BaseModel, Field

from index import uploads
from index.corpus import scan
from index.errors import CorpusError, IndexLockedError, QAError
from index.extract import format_of
from qa.settings import Settings

if TYPE_CHECKING:
    from qa.retrieve import Retriever

log = logging.getLogger(__name__)
Status = Literal["queued", "indexing", "ready", "skipped", "failed", "new"]
LOCK_RETRY_S = 300.0  # how long a queued batch waits for another writer (`qa index`) to finish


class IndexView(Protocol):
    """The answering side's view of the index."""

    def indexed(self) -> dict[str, int]:
        """The articles answers are drawn from now (file → evidence sentences), after taking in any commit."""


class DocumentStatus(BaseModel):
    """One article of the corpus folder, or an upload that was not kept."""

    name: str = Field(description="File name in the corpus folder: the `file` of its citations.")
    format: str = Field(description="`txt`, `md`, `html`, `pdf`, `docx`, or the suffix of a file not read.")
    size: int | None = Field(description="Bytes of the file; null for an upload that was not kept.")
    sentences: int | None = Field(description="Evidence sentences indexed; null until `ready`.")
    status: Status = Field(
        description="`queued`, `indexing`, `ready` (answerable), `skipped` or `failed` (with `reason`), or "
        "`new`: in the folder but never indexed (run `qa index`)."
    )
    reason: str | None = Field(default=None, description="Why it was skipped or failed, or a note.")


class UploadResult(BaseModel):
    """What became of one uploaded file."""

    name: str = Field(description="The name it is stored (or would be stored) under.")
    uploaded_as: str = Field(description="The name the client sent.")
    status: Literal["queued", "skipped"] = Field(description="`queued` for indexing, or `skipped`.")
    replaced: bool = Field(description="True when it replaces an article of the same name.")
    reason: str | None = Field(default=None, description="Why it was skipped.")


@dataclass
class _Record:
    status: Status
    reason: str | None = None
    seq: int = 0


class Documents:
    """The corpus folder's articles: added, replaced and removed by one indexing worker thread."""

    def __init__(self, settings: Settings, view: IndexView, resume: bool) -> None:
        """`resume` (a server): keep the names still queued in the journal, and index those a killed
        server left queued. A command (`qa add`) keeps none: it waits for its own."""
        self.settings = settings
        self.folder = settings.index.corpus_dir
        self._view = view
        self._cond = threading.Condition()
        self._records: dict[str, _Record] = {}
        self._dirty: dict[str, int] = {}  # name → the operation number it was queued at
        self._seq = 0
        self._worker: threading.Thread | None = None
        self._journal = settings.index.data_dir / "documents-pending.json" if resume else None
        uploads.leftovers(self.folder)
        pending = self._read_journal()
        if pending:
            log.warning("indexing %d article(s) left queued by the last run", len(pending))
            with self._cond:
                for name in pending:
                    self._queue(name)

    # ---- changes -------------------------------------------------------------------------------------
    def add(self, files: Iterable[tuple[str, BinaryIO]]) -> list[UploadResult]:
        """Save each (name sent, contents) into the corpus folder under a safe name and queue it."""
        limit = int(self.settings.index.max_upload_mb * 1024 * 1024)
        out: list[UploadResult] = []
        for sent, source in files:
            name = uploads.clean_name(sent)
            exists = (self.folder / name).is_file()
            reason = uploads.unsupported(name)
            staged = None if reason else uploads.stage(self.folder, source, limit)
            if not reason and staged is None:
                reason = f"larger than {self.settings.index.max_upload_mb:g} MB (QA_MAX_UPLOAD_MB)"
            elif staged is not None and staged[1] == 0:
                uploads.discard(staged[0])
                reason = "an empty file"
            if reason or staged is None:
                with self._cond:
                    if not exists and name not in self._dirty:
                        self._records[name] = _Record("skipped", reason)
                out.append(
                    UploadResult(name=name, uploaded_as=sent, status="skipped", replaced=False, reason=reason)
                )
                continue
            with self._cond:
                replaced = uploads.install(self.folder, staged[0], name)
                self._queue(name)
            out.append(UploadResult(name=name, uploaded_as=sent, status="queued", replaced=replaced))
        return out

    def remove(self, name: str) -> bool:
        """Delete article `name` from the folder and queue its removal from the index; False when no article
        or upload has that exact name."""
        with self._cond:
            had = uploads.remove(self.folder, name)
            record = self._records.pop(name, None) if not had else None
            if had:
                self._queue(name)
            return had or record is not None

    def _queue(self, name: str) -> None:
        """Queue `name` for the worker (caller holds the condition)."""
        self._seq += 1
        self._dirty[name] = self._seq
        self._records[name] = _Record("queued", None, self._seq)
        self._write_journal()
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._work, name="qa-documents", daemon=True)
            self._worker.start()
        self._cond.notify_all()

    def wait(self, names: Collection[str], timeout: float) -> bool:
        """Block until none of `names` is queued or indexing; False when `timeout` seconds passed first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while any(self._busy(n) for n in names):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _busy(self, name: str) -> bool:
        record = self._records.get(name)
        return record is not None and record.status in ("queued", "indexing")

    # ---- the worker ----------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._dirty:
                    self._cond.wait()
                batch = dict(self._dirty)
                self._dirty.clear()
                for name, seq in batch.items():
                    if name in self._records and self._records[name].seq == seq:
                        self._records[name].status = "indexing"
                self._cond.notify_all()
            outcome = self._index(batch)
            try:
                indexed = self._view.indexed()  # answerable from here on
            except Exception:
                log.exception("the answering side could not take in the new index")
                indexed = {}
            with self._cond:
                for name, seq in batch.items():
                    if self._seq_of(name) == seq:
                        self._settle(name, outcome.get(name), name in indexed)
                self._write_journal()
                self._cond.notify_all()

    def _seq_of(self, name: str) -> int:
        if name in self._dirty:
            return -1  # queued again meanwhile: the next batch decides
        record = self._records.get(name)
        return record.seq if record is not None else 0

    def _index(self, batch: Mapping[str, int]) -> dict[str, tuple[Status, str | None]]:
        """Run the indexer over the batch's names: name → (status, reason); a name it did not mention was
        removed (or never was an article)."""
        from index.build import index_corpus
        from index.embed import make_embedder

        deadline = time.monotonic() + LOCK_RETRY_S
        while True:
            try:
                embedder = make_embedder(self.settings.index, self.settings.llm)
                report = index_corpus(
                    self.settings.index, embedder=embedder, only=set(batch), keep_unreadable=True
                )
                break
            except IndexLockedError as e:
                if time.monotonic() > deadline:
                    return dict.fromkeys(batch, ("failed", str(e)))
                time.sleep(1.0)
            except QAError as e:
                return dict.fromkeys(batch, ("failed", str(e)))
            except Exception as e:
                log.exception("indexing %s failed", ", ".join(sorted(batch)))
                return dict.fromkeys(batch, ("failed", f"indexing failed ({type(e).__name__}: {e})"))
        out: dict[str, tuple[Status, str | None]] = {}
        for name in (*report.added, *report.updated, *report.unchanged):
            out[name] = ("ready", None)
        for sk in report.skipped:
            out[sk.file] = ("skipped", sk.reason)
        return out

    def _settle(self, name: str, outcome: tuple[Status, str | None] | None, answerable: bool) -> None:
        """Record how `name` came out and put the folder back where the index did not take the file."""
        status, reason = outcome or ("ready", None)
        if outcome is None:  # removed from the index (or never in it)
            self._records.pop(name, None)
            return
        uploads.settle(self.folder, name, taken=status == "ready")
        if status != "ready" and answerable:
            reason = f"the new file was {status} ({reason}); the version indexed before is kept"
            status = "ready"
        self._records[name] = _Record(status, reason, self._records.get(name, _Record(status)).seq)

    # ---- the journal of queued names ------------------------------------------------------------------
    def _read_journal(self) -> list[str]:
        if self._journal is None:
            return []
        try:
            raw = json.loads(self._journal.read_text("utf-8"))
        except (OSError, ValueError):
            return []
        names = raw.get("pending") if isinstance(raw, dict) else None
        return [n for n in names if isinstance(n, str) and uploads.clean_name(n) == n] if names else []

    def _write_journal(self) -> None:
        if self._journal is None:
            return
        pending = sorted(n for n in self._records if self._busy(n))
        if not pending and not self._journal.exists():
            return
        self._journal.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._journal.with_name(f"{self._journal.name}.{os.getpid()}")
        tmp.write_text(json.dumps({"pending": pending}, ensure_ascii=False), "utf-8")
        os.replace(tmp, self._journal)

    # ---- listing -------------------------------------------------------------------------------------
    def list(self) -> list[DocumentStatus]:
        """Every article of the folder and every upload not kept, by name, with its status."""
        from index.build import skipped_reasons

        try:
            indexed = self._view.indexed()
        except QAError:
            indexed = {}
        memo = skipped_reasons(self.settings.index)
        try:
            candidates, refused = scan(self.folder)
        except CorpusError:
            candidates, refused = [], []
        paths: dict[str, Path] = {c.file: c.path for c in candidates}
        refused_why = {sk.file: sk.reason for sk in refused}
        paths.update({sk.file: self.folder / sk.file for sk in refused})
        with self._cond:
            records = {n: _Record(r.status, r.reason, r.seq) for n, r in self._records.items()}
        out = []
        for name in sorted({*paths, *records}):
            path, record = paths.get(name), records.get(name)
            sentences = None
            if record is not None and (record.status in ("queued", "indexing") or name not in indexed):
                status, reason = record.status, record.reason
            elif name in indexed:
                status, reason, sentences = "ready", record.reason if record else None, indexed[name]
            elif name in refused_why or name in memo:
                status, reason = "skipped", refused_why.get(name) or memo[name]
            else:
                status, reason = "new", "in the corpus folder but not indexed: run `qa index` or upload it"
            out.append(
                DocumentStatus(
                    name=name,
                    format=format_of(Path(name)) or Path(name).suffix.lower().lstrip("."),
                    size=_size(path),
                    sentences=sentences,
                    status=status,
                    reason=reason,
                )
            )
        return out


def _size(path: Path | None) -> int | None:
    try:
        return path.stat().st_size if path is not None else None
    except OSError:
        return None


class LocalIndex:
    """`IndexView` for a process without a server (`qa add`, `qa remove`): a retriever built on first use
    (which writes the reader files a server then loads) and refreshed after that."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._retriever: Retriever | None = None

    def indexed(self) -> dict[str, int]:
        """The committed articles and their evidence sentences; empty while there is no index."""
        from qa.retrieve import Retriever

        try:
            if self._retriever is None:
                self._retriever = Retriever(self.settings)
            else:
                self._retriever.refresh()
        except QAError:
            return {}
        return self._retriever.article_sizes()
