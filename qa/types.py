"""Typed results shared by the pipeline, the CLI, the API and the evaluation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from index.sentences import Sentence


class Citation(BaseModel):
    """A pointer to one sentence of one article. `quote` is read from the index, never from the model."""

    id: str = Field(description="Sentence id `<file>#<n>`.")
    file: str = Field(description="Article file name.")
    sentence: int = Field(description="1-based sentence number within the file.")
    quote: str = Field(description="The exact sentence: file_text[start:end].")
    start: int = Field(description="Character offset where the sentence starts in the file.")
    end: int = Field(description="Character offset where the sentence ends in the file.")
    answer_start: int | None = Field(
        default=None,
        description="Where the short answer starts in the file, inside this sentence "
        "(file_text[answer_start:answer_end] is the phrase); null when this citation does not carry it.",
    )
    answer_end: int | None = Field(default=None, description="Where the short answer ends in the file.")

    @classmethod
    def of(cls, s: Sentence, answer: tuple[int, int] | None = None) -> Citation:
        """The citation of indexed sentence `s` (the one place a sentence becomes a citation); `answer` is
        the short answer's span as offsets into the sentence's text."""
        return cls(
            id=s.id,
            file=s.file,
            sentence=s.n,
            quote=s.text,
            start=s.start,
            end=s.end,
            answer_start=None if answer is None else s.start + answer[0],
            answer_end=None if answer is None else s.start + answer[1],
        )


class Conflict(BaseModel):
    """One version of the answer when the articles disagree (qa/conflicts.py)."""

    value: str = Field(description="What this version says, as its best source words it.")
    citations: list[int] = Field(
        default_factory=list,
        description="1-based indices into Answer.citations of the sentences that state this version.",
    )
    files: int = Field(default=0, description="How many articles state this version.")


class Answer(BaseModel):
    """What `qa ask --json`, `POST /api/ask` and `qa eval` return for one question.

    Marker `[k]` in `answer` refers to `citations[k-1]`.
    """

    question: str
    answer: str
    refused: bool
    citations: list[Citation] = Field(default_factory=list)
    model: str = ""
    timings: dict[str, float] = Field(default_factory=dict)
    backend: str = ""
    mode: str = Field(
        default="",
        description="generated (the model's answer, verified) | extractive (a span the pipeline found) "
        "| quoted (no span is clear: the best sentence, quoted, and no short answer) | refused",
    )
    confidence: float | None = Field(
        default=None,
        description="How sure the pipeline is that the cited sentence answers the question: the "
        "calibrated answerability logit as a probability in [0, 1]; null on refusal.",
    )
    short_answer: str = Field(
        default="", description="The short answer the text leads with; empty on refusal."
    )
    reported_by: dict[str, int] = Field(
        default_factory=dict, description="For each cited sentence id: how many articles carry that sentence."
    )
    conflicts: list[Conflict] = Field(
        default_factory=list,
        description="When the articles disagree: every version of the answer, the most supported first, "
        "each with the citations that state it and how many articles do; empty when they agree.",
    )
    retrieved: list[str] = Field(default_factory=list, description="Retrieved sentence ids, best first.")
    notes: list[str] = Field(default_factory=list, description="What verification changed, for audit.")
    extra: dict[str, Any] = Field(default_factory=dict)
