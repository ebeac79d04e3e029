"""Incremental indexing: corpus folder → text read from each file → sentences → embeddings → store.

Unchanged files (same content hash of the raw file, read by the same reader version) are not read again and
embed nothing; a changed file is read and replaced; a deleted one is removed; `rebuild=True` starts over.
Files other than .txt are read by a worker process with a time and memory limit per file
(index/extract/worker.py), so one bad file is skipped with its reason and the others are indexed. Each file is
committed on its own, so a crash leaves every file either fully in or fully out.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.corpus import Skipped, content_hash, label, raw_items, read_raw, scan, to_article
from index.embed import Embedder, OllamaServer, make_embedder
from index.extract import LEGACY_STAMP, Limits, Reader, format_of, stamp
from index.sentences import Sentence, split_sentences
from index.settings import IndexSettings
from index.store import Store, wipe, writer_lock

log = logging.getLogger(__name__)


@dataclass
class FormatCount:
    """What one run did with the files of one format."""

    files: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    skipped: int = 0
    removed: int = 0
    read: int = 0
    read_seconds: float = 0.0


@dataclass
class IndexReport:
    """What one `qa index` run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    sentences_embedded: int = 0
    boilerplate_dropped: int = 0
    seconds: float = 0.0
    formats: dict[str, FormatCount] = field(default_factory=dict)

    def count(self, fmt: str) -> FormatCount:
        """The counters of one format (created on first use)."""
        return self.formats.setdefault(fmt, FormatCount())

    def summary(self) -> str:
        """One line for the CLI, then a table of what was done per format."""
        line = (
            f"indexed {len(self.added)} new, {len(self.updated)} changed, {len(self.removed)} removed, "
            f"{len(self.unchanged)} unchanged article(s); embedded {self.sentences_embedded} sentence(s), "
            f"dropped {self.boilerplate_dropped} boilerplate line(s), skipped {len(self.skipped)} file(s) "
            f"in {self.seconds:.1f}s"
        )
        return line + "\n" + self.format_table() if self.formats else line

    def format_table(self) -> str:
        """Per format: files seen, new, changed, unchanged, skipped, removed, and time to read one."""
        head = ("format", "files", "new", "changed", "unchanged", "skipped", "removed", "read/file")
        rows = []
        for fmt in sorted(self.formats, key=lambda f: (-self.formats[f].files, label(f))):
            c = self.formats[fmt]
            per = f"{c.read_seconds / c.read * 1e3:.0f} ms" if c.read else "-"
            rows.append((label(fmt), c.files, c.new, c.changed, c.unchanged, c.skipped, c.removed, per))
        widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
        lines = []
        for r in (head, *rows):
            pairs = enumerate(zip(r, widths, strict=True))
            cells = [str(x).rjust(w) if i else str(x).ljust(w) for i, (x, w) in pairs]
            lines.append("  " + "  ".join(cells))
        return "\n".join(lines)


def evidence_sentences(file: str, text: str, max_chars: int) -> tuple[list[Sentence], int]:
    """The sentences of an article that may be cited, and how many boilerplate ones were dropped."""
    all_sentences = split_sentences(file, text, max_chars)
    keep = [s for s in all_sentences if s.boilerplate is None]
    return keep, len(all_sentences) - len(keep)


class SkipMemo:
    """Files that could not be read, remembered by content hash, reader stamp and limits (a JSON file in
    the data dir), so a file that takes the whole time limit to fail does not cost it again on every run.
    Any change to the file, its reader or the limits reads it again."""

    def __init__(self, settings: IndexSettings, limits: Limits) -> None:
        self.path = settings.data_dir / "skipped.json"
        self._limits = repr(limits)
        self._old: dict[str, dict[str, str]] = {}
        self._new: dict[str, dict[str, str]] = {}
        try:
            raw = json.loads(self.path.read_text("utf-8"))
            self._old = raw if isinstance(raw, dict) else {}
        except (OSError, ValueError):
            pass

    def _key(self, sha: str, fmt: str) -> str:
        return f"{sha} {stamp(fmt)} {self._limits}"

    def known(self, file: str, sha: str, fmt: str) -> str | None:
        """The reason `file` was skipped last time, if nothing has changed since."""
        entry = self._old.get(file)
        if isinstance(entry, dict) and entry.get("key") == self._key(sha, fmt) and entry.get("reason"):
            self._new[file] = entry
            return str(entry["reason"])
        return None

    def remember(self, file: str, sha: str, fmt: str, reason: str) -> None:
        """Remember why `file` (at this content hash) could not be read."""
        self._new[file] = {"key": self._key(sha, fmt), "reason": reason}

    def keep_others(self, files: Collection[str]) -> None:
        """Keep what earlier runs skipped of every file but `files` (a run that reads only those)."""
        for file, entry in self._old.items():
            if file not in files:
                self._new.setdefault(file, entry)

    def save(self) -> None:
        """Keep what this run skipped (and nothing else), atomically."""
        if not self._new and not self.path.exists():
            return
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(self._new, ensure_ascii=False, indent=0), "utf-8")
        os.replace(tmp, self.path)


def skipped_reasons(settings: IndexSettings) -> dict[str, str]:
    """Why each file that the last runs could not read was skipped (file → reason)."""
    try:
        raw = json.loads((settings.data_dir / "skipped.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(raw, dict):
        return {}
    return {f: str(e["reason"]) for f, e in raw.items() if isinstance(e, dict) and e.get("reason")}


def _skip(report: IndexReport, sk: Skipped) -> None:
    log.warning("skipping %s: %s", sk.file, sk.reason)
    report.skipped.append(sk)
    report.count(sk.format).skipped += 1


def index_corpus(
    settings: IndexSettings,
    corpus_dir: Path | None = None,
    rebuild: bool = False,
    progress: bool = False,
    embedder: Embedder | None = None,
    ollama: OllamaServer | None = None,
    *,
    only: Collection[str] | None = None,
    keep_unreadable: bool = False,
) -> IndexReport:
    """Bring the index in line with the corpus folder. Holds the writer lock throughout. Without an
    `embedder`, the one `settings.embed` names is made (an `ollama:` one calls the `ollama` server).

    `only` (file names) brings just those articles in line with the folder: each is added, replaced, left
    as it is or removed (when the folder no longer has it), and no other article is read or touched.
    `keep_unreadable`: an indexed article whose new file cannot be read keeps its indexed version instead
    of being removed (for a caller that then puts the old file back, qa/documents.py)."""
    t0 = time.perf_counter()
    folder = corpus_dir or settings.corpus_dir
    limits = Limits.from_settings(settings)
    report = IndexReport()
    with writer_lock(settings), Reader(limits) as reader:
        candidates, refused = scan(folder)
        if only is not None:
            candidates = [c for c in candidates if c.file in only]
            refused = [sk for sk in refused if sk.file in only]
        # The worker imports its libraries while the embedding model loads and the store opens.
        reader.start(c.format for c in candidates)
        for sk in refused:
            report.count(sk.format).files += 1
            _skip(report, sk)
        emb = embedder or make_embedder(settings, ollama)
        if rebuild:
            wipe(settings)
            (settings.data_dir / "skipped.json").unlink(missing_ok=True)
        memo = SkipMemo(settings, limits)
        if only is not None:
            memo.keep_others(only)
        store = Store(settings, emb.name, emb.dim, create=True)
        store.sweep()
        committed = store.manifest_stamps()
        if only is not None:
            committed = {f: v for f, v in committed.items() if f in only}
        todo = []
        present: set[str] = set()
        for c in candidates:
            report.count(c.format).files += 1
            raw = read_raw(c, limits)
            if isinstance(raw, Skipped):
                _skip(report, raw)
                continue
            sha = content_hash(raw)
            version, stamped = committed.get(c.file, ("", None))
            if version == sha and (stamped or LEGACY_STAMP) == stamp(c.format):
                present.add(c.file)
                report.unchanged.append(c.file)
                report.count(c.format).unchanged += 1
            elif (reason := memo.known(c.file, sha, c.format)) is not None:
                _skip(report, Skipped(c.file, f"{reason} (unchanged since it was last skipped)", c.format))
            else:
                present.add(c.file)
                todo.append(c)
        for file in sorted(set(committed) - present):
            store.remove_article(file)
            report.removed.append(file)
            report.count(format_of(file) or "").removed += 1
        bar = None
        if progress and todo:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), unit="file", desc="reading", leave=False)
        cache: dict[str, np.ndarray] = {}
        # Files are read again here, not kept from above (a folder of PDFs need not fit in memory), and
        # the worker reads the next one while this process embeds and stores the last.
        for (c, sha), read in reader.read_all(raw_items(todo, limits)):
            counts = report.count(c.format)
            if bar is not None:
                bar.set_description_str(f"reading {label(c.format)}")
                bar.set_postfix_str(c.file[:40], refresh=True)
            if read.seconds or read.extracted is not None:
                counts.read += 1
                counts.read_seconds += read.seconds
            if read.extracted is None:
                _skip(report, Skipped(c.file, read.reason or "unreadable", c.format))
                if sha:
                    memo.remember(c.file, sha, c.format, read.reason or "unreadable")
                if c.file in committed and not keep_unreadable:  # it was indexed, and can no longer be read
                    store.remove_article(c.file)
                    report.removed.append(c.file)
                    counts.removed += 1
            else:
                got = to_article(c, sha, read.extracted)
                keep, dropped = evidence_sentences(got.file, got.text, settings.max_sentence_chars)
                report.boilerplate_dropped += dropped
                new_texts = list(dict.fromkeys(s.text for s in keep if s.text not in cache))
                if new_texts:
                    for text, vec in zip(new_texts, emb.embed(new_texts), strict=True):
                        cache[text] = vec
                    report.sentences_embedded += len(new_texts)
                vectors = np.zeros((0, emb.dim), np.float32)
                if keep:
                    vectors = np.stack([cache[s.text] for s in keep])
                if committed.get(c.file, ("", None))[0] == got.sha256:
                    # Same file, new reader: its new records would reuse the old ones' ids, so it is taken
                    # out first (fully out, then fully in) rather than overwritten in place.
                    store.remove_article(c.file)
                store.put_article(got.file, got.sha256, keep, vectors, got.extracted())
                if c.file in committed:
                    report.updated.append(c.file)
                    counts.changed += 1
                else:
                    report.added.append(c.file)
                    counts.new += 1
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        memo.save()
    report.seconds = time.perf_counter() - t0
    return report
