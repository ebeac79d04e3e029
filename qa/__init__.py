"""Cited question answering over a folder of articles.

from qa import Settings, Pipeline, index_corpus
settings = Settings()
index_corpus(settings.index, ollama=settings.llm)
answer = Pipeline(settings).ask("Which bridge was closed?")
print(answer.answer, [c.id for c in answer.citations])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from index.errors import QAError
from qa.settings import Settings
from qa.types import Answer, Citation

if TYPE_CHECKING:
    from index.build import index_corpus
    from qa.pipeline import Pipeline

__all__ = ["Answer", "Citation", "Pipeline", "QAError", "Settings", "ask", "index_corpus"]


def __getattr__(name: str) -> Any:  # lazy: `import qa` stays cheap
    if name == "Pipeline":
        from qa.pipeline import Pipeline

        return Pipeline
    if name == "index_corpus":
        from index.build import index_corpus

        return index_corpus
    raise AttributeError(name)


def ask(question: str, settings: Settings | None = None) -> Answer:
    """One-shot convenience: answer `question` with a fresh pipeline (settings from the environment unless
    given; a bad value raises SettingsError)."""
    from qa.pipeline import Pipeline
    from qa.settings import load_settings

    return Pipeline(settings or load_settings()).ask(question)
