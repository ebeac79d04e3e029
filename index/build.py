"""Incremental indexing: corpus folder → sentences → embeddings → store.

Unchanged articles (same content hash) embed nothing; a changed article is replaced; a deleted one is
removed; `rebuild=True` starts over. Each article is committed on its own, so a crash leaves every
article either fully in or fully out.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.corpus import Skipped, load_corpus
from index.embed import Embedder, make_embedder
from index.sentences import Sentence, split_sentences
from index.settings import Settings
from index.store import Store, wipe, writer_lock

log = logging.getLogger(__name__)


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

    def summary(self) -> str:
        """One line for the CLI."""
        return (
            f"indexed {len(self.added)} new, {len(self.updated)} changed, {len(self.removed)} removed, "
            f"{len(self.unchanged)} unchanged article(s); embedded {self.sentences_embedded} sentence(s), "
            f"dropped {self.boilerplate_dropped} boilerplate line(s), skipped {len(self.skipped)} file(s) "
            f"in {self.seconds:.1f}s"
        )


def evidence_sentences(file: str, text: str) -> tuple[list[Sentence], int]:
    """The sentences of an article that may be cited, and how many boilerplate ones were dropped."""
    all_sentences = split_sentences(file, text)
    keep = [s for s in all_sentences if s.boilerplate is None]
    return keep, len(all_sentences) - len(keep)


def index_corpus(
    settings: Settings,
    corpus_dir: Path | None = None,
    rebuild: bool = False,
    progress: bool = False,
    embedder: Embedder | None = None,
) -> IndexReport:
    """Bring the index in line with the corpus folder. Holds the writer lock throughout."""
    t0 = time.perf_counter()
    folder = corpus_dir or settings.corpus_dir
    report = IndexReport()
    with writer_lock(settings):
        articles, report.skipped = load_corpus(folder)
        emb = embedder or make_embedder(settings)
        if rebuild:
            wipe(settings)
        store = Store(settings, emb.name, emb.dim, create=True)
        store.sweep()
        committed = store.manifest()
        todo = []
        for a in articles:
            if committed.get(a.file) == a.sha256:
                report.unchanged.append(a.file)
            else:
                (report.updated if a.file in committed else report.added).append(a.file)
                todo.append(a)
        present = {a.file for a in articles}
        for file in sorted(set(committed) - present):
            store.remove_article(file)
            report.removed.append(file)
        prepared = []
        for a in todo:
            keep, dropped = evidence_sentences(a.file, a.text)
            report.boilerplate_dropped += dropped
            prepared.append((a, keep))
        total = sum(len(k) for _, k in prepared)
        bar = None
        if progress and total:
            from tqdm import tqdm

            bar = tqdm(total=total, unit="sent", desc="embedding", leave=False)
        cache: dict[str, np.ndarray] = {}
        for a, keep in prepared:
            new_texts = list(dict.fromkeys(s.text for s in keep if s.text not in cache))
            if new_texts:
                for text, vec in zip(new_texts, emb.embed(new_texts), strict=True):
                    cache[text] = vec
                report.sentences_embedded += len(new_texts)
            vectors = np.stack([cache[s.text] for s in keep]) if keep else np.zeros((0, emb.dim), np.float32)
            store.put_article(a.file, a.sha256, keep, vectors)
            if bar is not None:
                bar.update(len(keep))
        if bar is not None:
            bar.close()
    report.seconds = time.perf_counter() - t0
    return report
