"""Names vulture cannot see used: a framework or a protocol calls or reads them, not our code.

Never imported or run; `vulture qa index ui tests/vulture_whitelist.py` reads each name below as used
(tests/test_code_health.py). Only framework entry points belong here, each with why; dead code is deleted.
"""

# ruff: noqa: B018, F821

# FastAPI route functions: the decorator registers them, nothing calls them by name (qa/api/app.py,
# qa/api/routes.py, qa/api/openai.py).
ask_stream
favicon
chat_completions

# pydantic: the model's configuration (index/settings.py, qa/settings.py, qa/api/openai.py).
model_config
# pydantic-settings: BaseSettings calls `settings_customise_sources` to list the sources (qa/settings.py), and
# `get_field_value` is abstract on PydanticBaseSettingsSource, so each source must define it.
settings_customise_sources
get_field_value
# pydantic: validators that their decorators register, run by model_validate (qa/eval/pairs.py).
_null_is_empty
_answers_fit_answerable
_answers_fit_unanswerable
_distinct
# pydantic fields of the OpenAI wire format, serialized into every reply (qa/api/openai.py).
refusal
finish_reason
completion_tokens
total_tokens
choices
usage
owned_by
# A pydantic field of GET /api/health's `queue` (qa/service.py QueueStatus); the same name is
# QAService.in_flight, which the API and fault tests read to wait for admitted requests to finish.
in_flight

# onnxruntime: SessionOptions attributes, read when the session is created (index/embed.py).
intra_op_num_threads
inter_op_num_threads

# PEP 562: Python calls a module's `__getattr__` for a missing attribute (qa/__init__.py, lazy imports).
__getattr__
# The context-manager protocol passes `__exit__` the exception, used or not (index/extract/worker.py Reader).
exc

# llama_index: abstract methods of BaseEmbedding and CustomLLM that llama_index calls, and the
# `formatted` argument of its `complete`/`stream_complete` signature (qa/eval/baseline.py).
_get_text_embeddings
_aget_query_embedding
_aget_text_embedding
complete
stream_complete
formatted

# Reply.as_dict is called by tests/standin.py, the stand-in model server that `qa eval --pipeline standin`
# imports from the checkout (qa/eval/run.py), outside the scanned packages (qa/eval/standin.py).
as_dict
# nltk: WordNetCorpusReader.__init__ calls `map_wn`, which qa/lexicon.py overrides (no version mapping).
map_wn

# The score stage's typed features: qa/weights.py reads every field by name (getattr over
# qa.score.SENTENCE_FEATURES / SPAN_FEATURES), and the fit stores them with `Features.as_dict`.
missing_max
rel_sim
negation
linked
novel
votes
