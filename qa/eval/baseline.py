"""The baseline a user would reach for: LlamaIndex's CitationQueryEngine over a VectorStoreIndex.

Same model, same embeddings, same articles as our pipeline, so the comparison is about the method:

- documents: one `Document` per article (the exact file text, metadata `file_name`), all of it: a plain
  pipeline has no boilerplate filter;
- chunks: `SentenceSplitter()` with its defaults (1024 tokens, overlap 200), in memory (`SimpleVectorStore`);
- retrieval: dense only, the engine's default `similarity_top_k` (2);
- answering: `CitationQueryEngine` with its own templates, `compact` response mode and 512-token citation
  chunks ("Source n:"), the model asked for `[n]` markers, nothing checked;
- model: our LLM seam wrapped in a `CustomLLM` (same greedy decoding, same `max_answer_tokens`, the
  model's own tokenizer for prompt packing); embeddings: our embedder wrapped in a `BaseEmbedding`.
  `llm=`, `embed_model=`, `callback_manager=` and `prompt_helper=` are passed explicitly:
  `llama_index.core.Settings` is never read for a model and never written.

Mapping its output to our `Answer` shape, honestly:

- each `[n]` marker refers to `source_nodes[n-1]`; cited nodes become citations in order of first use and
  markers are renumbered to match; a marker with no such source is left with a number past the last
  citation, so the scorer counts it as an invalid citation;
- a cited node is a chunk, not a sentence. Its citation carries the chunk's text as `quote` (the file's own
  text at the chunk's span: a chunk that differs from the file only in whitespace is located), its span in
  the file as `start:end`, and the first sentence the chunk overlaps as `sentence`/`id`. Validity then
  holds only when the chunk is exactly that one sentence; a multi-sentence chunk is an invalid citation
  (its quote is not "the sentence"). Support and evidence hit are scored on the chunk text, as cited;
- `retrieved` lists the sentence ids the retrieved chunks cover, chunk rank first, file order within;
- the engine has no refusal sentinel: an answer is a refusal when it is empty or says that the sources do
  not answer (`REFUSAL_CUES`). A refusal keeps no citations, as ours.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from index.corpus import Article
from index.embed import Embedder, make_embedder
from index.sentences import Sentence, split_sentences
from qa.cite import MARKER, marker_numbers
from qa.llm import LLM, make_llm
from qa.settings import Settings
from qa.types import Answer, Citation

# The system turn for the chat template: the neutral instruction a user's llama.cpp wrapper would add.
BASELINE_SYSTEM = "You are a helpful assistant."
# Phrases with which the engine's prompt ("If none of the sources are helpful, you should indicate that")
# makes a model decline.
REFUSAL_CUES = re.compile(
    r"none of the (provided |given )?sources|(sources|context|information|text)( provided| given)? "
    r"(do|does) not|not (mentioned|stated|specified|provided|given|available|included)|no information|"
    r"(cannot|can't|unable to) (answer|determine|find|be answered)|not enough information|i don't know|"
    r"^empty response$",
    re.IGNORECASE,
)
_SOURCE_PREFIX = re.compile(r"^Source \d+:\n")
# Room for the chat template's role tokens around the prompt.
_TEMPLATE_TOKENS = 32


def _wrappers() -> tuple[type, type]:
    """The llama-index adapter classes, defined on first use: importing llama_index costs seconds."""
    from llama_index.core.bridge.pydantic import PrivateAttr
    from llama_index.core.embeddings import BaseEmbedding
    from llama_index.core.llms import (
        CompletionResponse,
        CompletionResponseGen,
        CustomLLM,
        LLMMetadata,
    )
    from llama_index.core.llms.callbacks import llm_completion_callback

    class OurEmbedding(BaseEmbedding):
        """Our embedder as a llama-index embedding model."""

        _embedder: Any = PrivateAttr()

        def __init__(self, embedder: Embedder, **kwargs: Any) -> None:
            super().__init__(model_name=embedder.name, **kwargs)
            self._embedder = embedder

        def _get_query_embedding(self, query: str) -> list[float]:
            return [float(x) for x in self._embedder.embed([query])[0]]

        def _get_text_embedding(self, text: str) -> list[float]:
            return [float(x) for x in self._embedder.embed([text])[0]]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return [[float(x) for x in row] for row in self._embedder.embed(texts)]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        async def _aget_text_embedding(self, text: str) -> list[float]:
            return self._get_text_embedding(text)

    class OurLLM(CustomLLM):
        """Our LLM seam as a llama-index completion model; records per-call timings."""

        context_window: int
        num_output: int
        model_name: str
        _llm: Any = PrivateAttr()
        _calls: list[dict[str, float]] = PrivateAttr(default_factory=list)

        def __init__(self, llm: LLM, num_output: int, **kwargs: Any) -> None:
            super().__init__(
                context_window=llm.n_ctx - _TEMPLATE_TOKENS,
                num_output=num_output,
                model_name=f"{llm.backend}:{llm.name}",
                **kwargs,
            )
            self._llm = llm

        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(
                context_window=self.context_window,
                num_output=self.num_output,
                model_name=self.model_name,
                is_chat_model=False,
            )

        def take_calls(self) -> list[dict[str, float]]:
            calls, self._calls = self._calls, []
            return calls

        @llm_completion_callback()
        def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
            text = "".join(self._llm.stream(BASELINE_SYSTEM, prompt, self.num_output))
            self._calls.append(dict(self._llm.stats))
            return CompletionResponse(text=text)

        @llm_completion_callback()
        def stream_complete(
            self, prompt: str, formatted: bool = False, **kwargs: Any
        ) -> CompletionResponseGen:
            def gen() -> CompletionResponseGen:
                text = ""
                for delta in self._llm.stream(BASELINE_SYSTEM, prompt, self.num_output):
                    text += delta
                    yield CompletionResponse(text=text, delta=delta)
                self._calls.append(dict(self._llm.stats))

            return gen()

    return OurEmbedding, OurLLM


def locate(chunk: str, text: str, hint: int | None = None) -> tuple[int, int] | None:
    """Where `chunk` lies in `text` (exactly, or with whitespace runs differing), or None."""
    chunk = chunk.strip()
    if not chunk:
        return None
    if hint is not None and hint >= 0 and text.startswith(chunk, hint):
        return hint, hint + len(chunk)
    i = text.find(chunk)
    if i >= 0:
        return i, i + len(chunk)
    pattern = r"\s+".join(re.escape(w) for w in chunk.split())
    m = re.search(pattern, text)
    return (m.start(), m.end()) if m else None


def covered(sentences: Sequence[Sentence], start: int, end: int) -> list[Sentence]:
    """The sentences that overlap text[start:end], in file order."""
    return [s for s in sentences if s.start < end and s.end > start]


def chunk_citation(file: str, chunk: str, text: str | None, sentences: Sequence[Sentence]) -> Citation:
    """A chunk as a citation: quote = the chunk as the engine showed it, span = where it is in the file,
    sentence = the first sentence it overlaps (0 and span -1:-1 when it cannot be found)."""
    quote = chunk.strip()
    span = locate(quote, text) if text is not None else None
    if span is None:
        return Citation(id=f"{file}#0", file=file, sentence=0, quote=quote, start=-1, end=-1)
    start, end = span
    over = covered(sentences, start, end)
    n = over[0].n if over else 0
    return Citation(
        id=f"{file}#{n}",
        file=file,
        sentence=n,
        quote=text[start:end] if text else quote,
        start=start,
        end=end,
    )


def map_markers(answer: str, n_sources: int) -> tuple[str, list[int]]:
    """Renumber `[n]` markers to the order in which sources are first cited.

    Returns the rewritten answer and the cited source numbers (1-based) in that order. A marker with no
    source is renumbered past the last cited source, so it points at no citation.
    """
    cited: list[int] = []
    bad: list[int] = []
    for m in MARKER.finditer(answer):
        for n in marker_numbers(m):
            target = cited if 1 <= n <= n_sources else bad
            if n not in target:
                target.append(n)
    new = {n: i for i, n in enumerate(cited, 1)} | {n: len(cited) + i for i, n in enumerate(bad, 1)}

    def sub(m: re.Match[str]) -> str:
        return "[" + ", ".join(str(new[n]) for n in marker_numbers(m)) + "]"

    return MARKER.sub(sub, answer), cited


class BaselinePipeline:
    """LlamaIndex CitationQueryEngine over the same articles, model and embeddings; `ask` → our Answer."""

    def __init__(
        self,
        settings: Settings,
        articles: Sequence[Article],
        llm: LLM | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        from llama_index.core import Document, VectorStoreIndex
        from llama_index.core.callbacks import CallbackManager
        from llama_index.core.indices.prompt_helper import PromptHelper
        from llama_index.core.node_parser import SentenceSplitter
        from llama_index.core.query_engine.citation_query_engine import (
            CITATION_QA_TEMPLATE,
            CITATION_REFINE_TEMPLATE,
            CitationQueryEngine,
        )
        from llama_index.core.response_synthesizers import ResponseMode, get_response_synthesizer

        self.settings = settings
        if llm is None:
            llm, _ = make_llm(settings)
        self.llm = llm
        embed_cls, llm_cls = _wrappers()
        callbacks = CallbackManager([])
        self._embed_model = embed_cls(
            embedder or make_embedder(settings.index, settings.llm), callback_manager=callbacks
        )
        self._li_llm = llm_cls(llm, settings.answer.max_answer_tokens, callback_manager=callbacks)
        self._texts = {a.file: a.text for a in articles}
        self._sentences = {
            a.file: split_sentences(a.file, a.text, settings.index.max_sentence_chars) for a in articles
        }
        docs = [Document(text=a.text, metadata={"file_name": a.file}) for a in articles]
        index = VectorStoreIndex.from_documents(
            docs,
            transformations=[SentenceSplitter()],
            embed_model=self._embed_model,
            callback_manager=callbacks,
        )
        count: Callable[[str], list[int]] = lambda t: [0] * llm.count_tokens(t)  # noqa: E731
        synthesizer = get_response_synthesizer(
            llm=self._li_llm,
            prompt_helper=PromptHelper.from_llm_metadata(self._li_llm.metadata, tokenizer=count),
            text_qa_template=CITATION_QA_TEMPLATE,
            refine_template=CITATION_REFINE_TEMPLATE,
            response_mode=ResponseMode.COMPACT,
            callback_manager=callbacks,
        )
        self._engine = CitationQueryEngine(
            retriever=index.as_retriever(),
            llm=self._li_llm,
            response_synthesizer=synthesizer,
            callback_manager=callbacks,
        )

    @property
    def model_label(self) -> str:
        """`backend:model`, as our pipeline labels it."""
        return f"{self.llm.backend}:{self.llm.name}"

    def _retrieved_ids(self, nodes: Sequence[Any]) -> list[str]:
        out: dict[str, None] = {}
        for nws in nodes:
            node = nws.node
            file = str(node.metadata.get("file_name", ""))
            text = self._texts.get(file)
            if text is None:
                continue
            span = locate(node.get_content(), text, node.start_char_idx)
            if span is not None:
                for s in covered(self._sentences[file], *span):
                    out[s.id] = None
        return list(out)

    def ask(self, question: str) -> Answer:
        """Answer with the engine and map the result to our Answer shape (see the module docstring)."""
        from llama_index.core.base.response.schema import Response
        from llama_index.core.schema import QueryBundle

        t0 = time.perf_counter()
        self._li_llm.take_calls()
        bundle = QueryBundle(question)
        nodes = self._engine.retrieve(bundle)
        t1 = time.perf_counter()
        response = self._engine.synthesize(bundle, nodes)
        t2 = time.perf_counter()
        assert isinstance(response, Response)  # not streaming, not structured
        raw = str(response.response or "").strip()
        sources = list(response.source_nodes)
        answer, cited = map_markers(raw, len(sources))
        refused = not raw or bool(REFUSAL_CUES.search(raw))
        citations: list[Citation] = []
        if not refused:
            for n in cited:
                node = sources[n - 1].node
                file = str(node.metadata.get("file_name", ""))
                chunk = _SOURCE_PREFIX.sub("", node.get_content())
                citations.append(
                    chunk_citation(file, chunk, self._texts.get(file), self._sentences.get(file, []))
                )
        calls = self._li_llm.take_calls()
        timings = {
            "retrieve_ms": (t1 - t0) * 1e3,
            "prefill_ms": sum(c.get("prefill_ms", 0.0) for c in calls),
            "decode_ms": sum(c.get("decode_ms", 0.0) for c in calls),
            "synthesize_ms": (t2 - t1) * 1e3,
            "total_ms": (time.perf_counter() - t0) * 1e3,
            "llm_calls": float(len(calls)),
        }
        return Answer(
            question=question,
            answer=answer,
            refused=refused,
            citations=citations,
            model=self.model_label,
            backend=self.llm.backend,
            timings=timings,
            mode="baseline",
            retrieved=self._retrieved_ids(nodes),
            notes=[f"model output: {raw!r}"],
            extra={"sources": len(sources)},
        )
