"""The one `Settings` object: a section per layer, composed here, built once at an entry point (the CLI,
`qa.ask`, the server, tests) and passed down. Each layer's code takes the section it needs.

| section     | owner               | what it holds                                                      |
|-------------|---------------------|--------------------------------------------------------------------|
| `index`     | `index/settings.py` | data and corpus folders, the embedder, extraction limits, sentences |
| `retrieval` | here                | how many candidates, how they are fused and grouped                |
| `answer`    | here                | when the model refines, how spans are proposed, cited and judged   |
| `llm`       | here                | which model answers, and its server or file                        |
| `server`    | here                | the HTTP API and the chat UI: token, admission limits              |

There is no `ui` section. The chat's own constants (its redraw and poll intervals, the longest source
shown) change no answer, and the knobs it does read, the token and the admission limits of Gradio's queue,
are the server's; a `ui` section owned by ui/ would make qa import ui to compose it (dependencies point
index → qa → ui).

Every field reads two environment names: the flat one it always had (`QA_TOP_K`, `QA_LLM`,
`QA_OLLAMA_HOST` or `OLLAMA_HOST`, `QA_REFINE` or the older `QA_MODEL_ANSWERS`) and the nested one
(`QA_RETRIEVAL__TOP_K`, `QA_LLM__BACKEND`), from the process environment or a `.env` file in the working
directory. The nested name wins over the flat one; the process environment over `.env`. Keyword
construction takes flat names too: `Settings(data_dir=..., refine="never")`. Nothing runs at import time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from index.errors import SettingsError
from index.settings import IndexSettings

PREFIX = "QA_"
NESTED = "__"


class RetrievalSettings(BaseModel):
    """Finding evidence: dense and BM25 candidates, fused, grouped by fact."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    top_k: int = Field(default=5, ge=1, le=20, description="Evidence groups shown to the model.")
    candidates: int = Field(default=30, ge=5, description="Candidates per retriever before fusion.")
    rrf_k: int = Field(
        default=60,
        ge=1,
        description="Reciprocal rank fusion constant: a candidate at rank r in one ranking scores "
        "1 / (rrf_k + r); larger values flatten the difference between top and lower ranks.",
    )
    group_jaccard: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Two sentences from different articles state the same fact (one evidence group, "
        '"reported by N articles") when their content words overlap at least this much (Jaccard) and '
        "their numbers are the same.",
    )


class AnswerSettings(BaseModel):
    """Turning evidence into a short verified answer: proposing, judging, citing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    refine: Literal["auto", "always", "weak", "never"] = Field(
        default="auto",
        description="Whether the language model proposes answers after the instant extractive answer: "
        "`always`; `weak` (only when the extractive answer is refused or not clear-cut); `never` (no model "
        "call); `auto`: always with Ollama, never with the embedded model (measured, README "
        '"Evaluation").',
        json_schema_extra={"also": "QA_MODEL_ANSWERS"},
    )
    max_answer_tokens: int = Field(default=80, ge=8, description="Most tokens the model may generate.")
    max_question_chars: int = Field(default=2000, ge=10, description="Longer questions are rejected.")
    propose_pool: int = Field(
        default=8,
        ge=1,
        description="Evidence groups the extractive proposer reads (at least `top_k`; the model is shown "
        "`top_k` of them).",
    )
    conflict_pool: int = Field(
        default=16,
        ge=1,
        description="Evidence groups read for rival versions of the answer (at least `propose_pool`; "
        "those past it never give the answer, only a version that disagrees with it).",
    )
    max_span_tokens: int = Field(
        default=12,
        ge=1,
        description="Longest candidate answer span, in tokens (reason and manner clauses excepted).",
    )
    kind_mismatch: float = Field(
        default=0.25,
        description="Type fit of a span of the asked-for label but the wrong kind: a stretch of time for "
        '"when", a point in time for "how long", a number that counts things for "how long/old", a sum of '
        'money for "how many" (1 is the asked-for type, 0 a plain noun phrase).',
    )
    quote_words: int = Field(
        default=25,
        ge=1,
        description="A quoted answer is cut to the clause that states it when the sentence has more "
        "words than this.",
    )
    max_cited: int = Field(
        default=6, ge=1, description="Most citations one answer carries for the sentences stating it."
    )
    short_reply_words: int = Field(
        default=12,
        ge=1,
        description="A model reply of at most this many words is read as a short answer to find in the "
        "evidence; a longer one as claims to verify.",
    )
    model_sentence_margin: float = Field(
        default=1.0,
        ge=0,
        description="The model's answer is kept when its sentence scores within this margin of the best "
        "evidence sentence.",
    )
    min_claim_coverage: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="Share of a model claim's content words its cited sentence must hold for the claim "
        "to count as supported.",
    )
    value_rounding: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="When answers are compared across sources, a figure's rounding is read from its written "
        'digits ("1,200" may be 1,150 to 1,250) but never wider than this share of it.',
    )
    value_approximate: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description='When answers are compared across sources, "about", "some", "roughly" 50 is within this '
        "share of 50.",
    )


class LlmSettings(BaseModel):
    """The language model: which backend, and its server or its file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["auto", "ollama", "llamacpp"] = Field(
        default="auto",
        description="Answer backend: `auto` uses Ollama when it is reachable and has the model, else the "
        "embedded llama.cpp model, and says which it chose; `ollama`; `llamacpp`.",
        json_schema_extra={"flat": "llm"},
    )
    ollama_host: str = Field(
        default="http://127.0.0.1:11434",
        description="Ollama server address, for answers and for `ollama:` embeddings.",
        json_schema_extra={"also": "OLLAMA_HOST"},
    )
    ollama_model: str = Field(default="llama3.2:3b", description="Ollama model tag to answer with.")
    ollama_num_ctx: int = Field(
        default=4096,
        ge=512,
        description="Context window sent to Ollama (evidence is trimmed to fit it before sending).",
    )
    ollama_keep_alive: str = Field(default="10m", description="How long Ollama keeps the model loaded.")
    ollama_timeout_s: float = Field(
        default=60.0, gt=0, description="Seconds to wait for Ollama before giving up with an error."
    )
    probe_timeout_s: float = Field(
        default=2.0,
        gt=0,
        description="Seconds `QA_LLM=auto` (and `qa doctor`) waits for Ollama to list its models before "
        "it counts Ollama as down and uses the embedded model.",
    )
    gguf_path: Path | None = Field(
        default=None,
        description="GGUF file for the embedded backend.",
        json_schema_extra={"shown": "packaged SmolLM2-135M-Instruct"},
    )
    llamacpp_n_ctx: int = Field(default=2048, ge=512, description="Context window of the embedded model.")
    llamacpp_threads: int = Field(default=2, ge=1, description="CPU threads for the embedded model.")


class ServerSettings(BaseModel):
    """The HTTP API and the chat UI it mounts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_token: str | None = Field(
        default=None, description="If set, the HTTP API requires `Authorization: Bearer <token>`."
    )
    concurrency: int = Field(
        default=4,
        ge=1,
        description="Requests in flight or queued before the API answers 503 with `Retry-After`, when "
        "every answer runs the model (`QA_REFINE=always`, or `auto` with Ollama).",
    )
    concurrency_no_model: int = Field(
        default=64,
        ge=1,
        description="Requests in flight or queued before 503 when answers need no model (`QA_REFINE=never` "
        "or `weak`, or `auto` with the embedded model): they take a fraction of a second each, so many "
        "more are admitted.",
    )


SECTIONS: dict[str, type[BaseModel]] = {
    "index": IndexSettings,
    "retrieval": RetrievalSettings,
    "answer": AnswerSettings,
    "llm": LlmSettings,
    "server": ServerSettings,
}


def _extra(field: FieldInfo, key: str) -> str | None:
    extra = field.json_schema_extra
    value = extra.get(key) if isinstance(extra, dict) else None
    return str(value) if value is not None else None


def fields() -> Iterator[tuple[str, str, FieldInfo]]:
    """Every setting as `(section, field name, field)`, in the order of the sections."""
    for section, model in SECTIONS.items():
        for name, field in model.model_fields.items():
            yield section, name, field


def flat_name(name: str, field: FieldInfo) -> str:
    """The flat name of a field (`top_k`; `llm` for `llm.backend`)."""
    return _extra(field, "flat") or name


def env_names(section: str, name: str, field: FieldInfo) -> tuple[str, str, list[str]]:
    """A field's nested env name, its flat one and the older or foreign names also read, upper-case."""
    also = _extra(field, "also")
    nested = f"{PREFIX}{section}{NESTED}{name}".upper()
    return nested, f"{PREFIX}{flat_name(name, field)}".upper(), [also] if also else []


def _routes() -> dict[str, tuple[str, str]]:
    return {flat_name(name, f): (section, name) for section, name, f in fields()}


def route(values: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword values with flat names (`top_k=3`) sorted into their sections (`retrieval={"top_k": 3}`).
    A section given whole (`index=IndexSettings(...)`) is kept; flat names of the same section win."""
    routes = _routes()
    out: dict[str, Any] = {}
    for key, value in values.items():
        is_section = key in SECTIONS and (isinstance(value, (Mapping, BaseModel)))
        if is_section:
            given = value.model_dump(exclude_unset=True) if isinstance(value, BaseModel) else dict(value)
            out[key] = {**given, **out.get(key, {})}
        elif key in routes:
            section, name = routes[key]
            out.setdefault(section, {})[name] = value
        else:
            raise TypeError(f"Settings has no setting '{key}'")
    return out


class _FlatEnv(PydanticBaseSettingsSource):
    """The flat env names (`QA_TOP_K`, `OLLAMA_HOST`) of one env mapping, sorted into sections."""

    def __init__(self, settings_cls: type[BaseSettings], env_vars: Mapping[str, str | None]) -> None:
        super().__init__(settings_cls)
        self._env_vars = env_vars

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads whole sections

    def __call__(self) -> dict[str, Any]:
        out: dict[str, dict[str, Any]] = {}
        for section, name, field in fields():
            _, flat, also = env_names(section, name, field)
            for env in (flat, *also):
                value = self._env_vars.get(env.lower())
                if value is not None:
                    out.setdefault(section, {})[name] = value
                    break
        return dict(out)


class _RoutedInit(PydanticBaseSettingsSource):
    """Keyword construction with flat names: `Settings(top_k=3)`."""

    def __init__(self, settings_cls: type[BaseSettings], init: PydanticBaseSettingsSource) -> None:
        super().__init__(settings_cls)
        self._init = init

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ routes the whole keyword set

    def __call__(self) -> dict[str, Any]:
        return route(self._init())


def _nested_only(source: PydanticBaseSettingsSource) -> PydanticBaseSettingsSource:
    # A bare QA_<SECTION> is not a JSON blob for that section here: QA_LLM is the flat name of llm.backend.
    if isinstance(source, EnvSettingsSource):
        bare = {f"{PREFIX}{s}".lower() for s in SECTIONS}
        source.env_vars = {k: v for k, v in source.env_vars.items() if k.lower() not in bare}
    return source


class Settings(BaseSettings):
    """Configuration for indexing, retrieval, answering and serving, a section per layer."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_nested_delimiter=NESTED, env_file=".env", extra="ignore", frozen=True
    )

    index: IndexSettings = Field(default_factory=IndexSettings, description="Indexing and the store.")
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings, description="Finding evidence.")
    answer: AnswerSettings = Field(default_factory=AnswerSettings, description="Writing the answer.")
    llm: LlmSettings = Field(default_factory=LlmSettings, description="The language model.")
    server: ServerSettings = Field(default_factory=ServerSettings, description="The API and the UI.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [_RoutedInit(settings_cls, init_settings)]
        for source in (env_settings, dotenv_settings):
            if isinstance(source, EnvSettingsSource):
                flat = _FlatEnv(settings_cls, dict(source.env_vars))
                sources += [_nested_only(source), flat]
            else:
                sources.append(source)
        return (*sources, file_secret_settings)

    def replaced(self, **changes: Any) -> Settings:
        """A copy with some settings changed by flat name, validated: `settings.replaced(refine="never")`."""
        sections = {
            section: SECTIONS[section].model_validate({**getattr(self, section).model_dump(), **update})
            for section, update in route(changes).items()
        }
        return self.model_copy(update=sections)


def load_settings(**changes: Any) -> Settings:
    """The settings of the environment and `.env`, with `changes` by flat name. A value a setting cannot
    take raises SettingsError naming the variable, the value and what it takes (no traceback)."""
    try:
        return Settings(**changes)
    except ValidationError as e:
        from qa.settings_errors import explain

        raise SettingsError(explain(e, SECTIONS, env_names, flat_name)) from e
