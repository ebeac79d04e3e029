"""What a reader read last, answered while a writer holds the on-disk store.

While `qa index` runs, a reader that is already open never touches the files (index/lock.py): it answers
from what it read last, so it never sees a half-written state. That is the manifest, the generation token,
the record count, the texts it showed lately, and the committed sentences with their vectors, which are
searched by exact cosine. The sentences and vectors may be lists and arrays in memory or the memory-mapped
reader files of index/mapped.py; both are only read here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from index.errors import IndexLockedError
from index.extract import Extracted
from index.sentences import Sentence

TEXT_CACHE = 64  # texts a reader keeps, for the source viewer while a writer holds the store
WRITING = (
    "`qa index` is writing the index right now; it can be read when that finishes. Try again in a moment."
)
T = TypeVar("T")


def seen(value: T | None) -> T:
    """What was read last, while a writer holds the store; IndexLockedError if nothing was."""
    if value is None:
        raise IndexLockedError(WRITING)
    return value


@dataclass
class Committed:
    """The manifest and, consistent with it, every committed sentence and its vector (rows align)."""

    manifest: dict[str, str]
    sentences: Sequence[Sentence]
    vectors: np.ndarray


@dataclass
class Snapshot:
    """A reader's last view of the store."""

    manifest: dict[str, str] | None = None
    generation: str | None = None
    count: int | None = None
    committed: Committed | None = None
    texts: dict[str, Extracted] = field(default_factory=dict)

    def keep_text(self, file: str, text: Extracted | None) -> None:
        """Remember the last TEXT_CACHE texts shown (None: the article is gone)."""
        self.texts.pop(file, None)
        if text is None:
            return
        self.texts[file] = text
        while len(self.texts) > TEXT_CACHE:
            self.texts.pop(next(iter(self.texts)))

    def text(self, file: str) -> Extracted:
        """A text shown lately; IndexLockedError when it was not."""
        if file in self.texts:
            return self.texts[file]
        raise IndexLockedError(WRITING)

    def search(
        self, vector: np.ndarray, k: int, committed: Mapping[str, str]
    ) -> list[tuple[Sentence, float]]:
        """Exact cosine search over the committed sentences read last (unit vectors); only sentences of
        articles at the version `committed` names."""
        view = seen(self.committed)
        if not len(view.sentences):
            return []
        sims = np.asarray(view.vectors @ np.asarray(vector, dtype=np.float32))
        out: list[tuple[Sentence, float]] = []
        for i in np.argsort(-sims, kind="stable"):
            s = view.sentences[int(i)]
            if committed.get(s.file) == view.manifest.get(s.file):
                out.append((s, float(sims[int(i)])))
                if len(out) == k:
                    break
        return out
