"""The `ollama` backend, end to end, against a server that speaks Ollama's wire protocol.

The test server (tests/ollama_server.py) answers with the same packaged GGUF the embedded backend runs, so
the end-to-end answer suite of tests/test_answer_e2e.py is imported and run again here with `pipeline`
overridden: once against the test server, and once (marker `ollama`) against a real Ollama when one
answers at QA_OLLAMA_HOST / OLLAMA_HOST (default http://127.0.0.1:11434) with QA_OLLAMA_MODEL pulled
(default llama3.2:3b). Then streaming, every failure mode, the trimmed prompt, Ollama embeddings and
`qa doctor`.

Generations are real unless a test only needs fixed text: `reply_chunks` makes the server stream canned
pieces (no decoding), which is how a marker split across chunks is produced on purpose.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from index.errors import BackendError, IndexMismatchError
from qa.events import Event
from qa.llm import LlamaCppLLM, OllamaLLM, choose_backend, default_gguf, make_llm
from qa.pipeline import Pipeline
from qa.prompts import REFUSAL
from qa.retrieve import Retriever
from qa.settings import LlmSettings, Settings
from tests.helpers import assert_valid_answer
from tests.ollama_server import OllamaTestServer
from tests.test_answer_e2e import (  # noqa: F401 - collected here again, with `pipeline` on Ollama
    test_answers_cite_sentences_that_hold_the_fact,
    test_timings_cover_every_stage,
    test_unanswerable_questions_are_refused,
)

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
CHAT = "smollm2:135m"
EMBED = "all-minilm"
CONFIRMED = "Who confirmed that Imam Sahib district was in Taliban hands?"
# Read now: the autouse `isolated_data` fixture points QA_OLLAMA_HOST at a dead port during every test.
REAL_HOST = os.environ.get("QA_OLLAMA_HOST") or os.environ.get("OLLAMA_HOST") or "http://127.0.0.1:11434"
REAL_MODEL = os.environ.get("QA_OLLAMA_MODEL") or str(LlmSettings.model_fields["ollama_model"].default)


# --- fixtures -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[OllamaTestServer]:
    with OllamaTestServer(models=[CHAT, EMBED]) as srv:
        yield srv


@pytest.fixture
def srv(server: OllamaTestServer) -> Iterator[OllamaTestServer]:
    """The shared server, healthy, with an empty request log."""
    server.configure(models=[CHAT, EMBED], drop_after_chunks=None, error_after_chunks=None)
    server.configure(hang=False, reply_chunks=None)
    server.clear_requests()
    yield server


def ollama_settings(data_dir: Path, url: str, **overrides: Any) -> Settings:
    """Settings for the seed index, answering through the Ollama at `url`."""
    base: dict[str, Any] = {"llm": "ollama", "ollama_host": url, "ollama_model": CHAT}
    return Settings(data_dir=data_dir, corpus_dir=SEEDS, **(base | overrides))


@pytest.fixture(scope="module")
def retriever(seed_settings: Settings) -> Retriever:
    """One retriever over the seed index for the pipelines built per test (the backend varies, not it)."""
    return Retriever(seed_settings)


def real_ollama_host() -> str:
    """The real Ollama's address, or skip with the reason."""
    url = REAL_HOST if "://" in REAL_HOST else f"http://{REAL_HOST}"
    host = urlparse(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        pytest.skip(f"the test suite only connects to loopback; Ollama at {REAL_HOST} is not")
    try:
        httpx.get(f"{url}/api/version", timeout=1.0).raise_for_status()
        tags = httpx.get(f"{url}/api/tags", timeout=5.0).json()
    except Exception as e:  # noqa: BLE001 - any failure means "no Ollama here"
        pytest.skip(f"no Ollama answers at {url} ({type(e).__name__}): start one with `ollama serve`")
    names = {m.get("name") for m in tags.get("models", [])} | {m.get("model") for m in tags.get("models", [])}
    wanted = REAL_MODEL if ":" in REAL_MODEL else f"{REAL_MODEL}:latest"
    if not names & {REAL_MODEL, wanted}:
        pytest.skip(
            f"Ollama at {url} lacks {REAL_MODEL}: run `ollama pull {REAL_MODEL}` (or set QA_OLLAMA_MODEL)"
        )
    return url


@pytest.fixture(scope="module", params=["test-server", pytest.param("real-ollama", marks=pytest.mark.ollama)])
def pipeline(request: pytest.FixtureRequest, seed_settings: Settings) -> Iterator[Pipeline]:
    """The imported end-to-end suite's pipeline, answering through Ollama (built as the product builds it:
    the probe, `/api/show`, then streaming `/api/chat`)."""
    if request.param == "real-ollama":
        settings = ollama_settings(seed_settings.index.data_dir, real_ollama_host(), ollama_model=REAL_MODEL)
        yield Pipeline(settings)
        return
    with OllamaTestServer(models=[CHAT]) as srv:
        p = Pipeline(ollama_settings(seed_settings.index.data_dir, srv.url))
        assert (p.llm.backend, p.model_label) == ("ollama", f"ollama:{CHAT}")
        yield p


@pytest.fixture(scope="module")
def with_model(pipeline: Pipeline) -> Pipeline:
    """The imported timings test's model-running pipeline: through Ollama the model always proposes."""
    return pipeline


@pytest.fixture
def served(srv: OllamaTestServer, seed_settings: Settings, retriever: Retriever) -> Pipeline:
    """A pipeline on the shared test server (retriever shared, backend chosen as the product does)."""
    return Pipeline(ollama_settings(seed_settings.index.data_dir, srv.url), retriever=retriever)


def drain(events: Iterator[Event]) -> tuple[list[Event], BaseException | None]:
    """Every event up to the end of the stream or the exception that ended it."""
    seen: list[Event] = []
    try:
        for ev in events:
            seen.append(ev)
    except Exception as e:  # noqa: BLE001 - returned for the test to inspect
        return seen, e
    return seen, None


def evidence_lines(chat: dict[str, Any]) -> dict[int, str]:
    """The numbered evidence lines of an /api/chat request's prompt: number -> sentence."""
    user = chat["messages"][-1]["content"]
    return {int(n): text for n, text in re.findall(r"^\[(\d+)\] (.*)$", user, re.MULTILINE)}


def evidence_sent(srv: OllamaTestServer) -> dict[int, str]:
    """The numbered evidence lines of the last /api/chat the server received."""
    return evidence_lines([r.body for r in srv.requests if r.path == "/api/chat"][-1])


def marker_for(srv: OllamaTestServer, pipe: Pipeline, needle: str) -> int:
    """The evidence number the pipeline gives the sentence containing `needle` for CONFIRMED."""
    srv.configure(reply_chunks=[REFUSAL])
    pipe.ask(CONFIRMED)
    found = [n for n, text in evidence_sent(srv).items() if needle in text]
    assert found, evidence_sent(srv)
    srv.clear_requests()
    return found[0]


# --- same answers as the embedded backend --------------------------------------------------------------


@pytest.mark.slow
def test_same_answer_as_the_embedded_backend(served: Pipeline, seed_settings: Settings) -> None:
    """Same GGUF, same chat template, same greedy decoding: the same model output and the same answer
    (all twelve seed questions matched when this was written; one here keeps the suite fast)."""
    embedded = Pipeline(seed_settings.replaced(refine="always"), retriever=served.retriever)
    assert isinstance(embedded.llm, LlamaCppLLM) and isinstance(served.llm, OllamaLLM)
    question = "How far from Kunduz were the Taliban fighters?"
    ours, theirs = served.ask(question), embedded.ask(question)
    assert ours.answer == theirs.answer
    assert ours.notes == theirs.notes  # notes[0] is the raw model output
    assert ours.citations == theirs.citations


# --- streaming ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_tokens_stream_as_the_server_sends_them(served: Pipeline, srv: OllamaTestServer) -> None:
    events = list(served.stream(CONFIRMED))
    kinds = [ev.type for ev in events]
    assert kinds[0] == "meta" and kinds[-1] == "done" and kinds.count("done") == 1
    tokens = [ev.data["text"] for ev in events if ev.type == "token"]
    assert len(tokens) > 1
    answer = events[-1].data["answer"]
    assert answer.notes[0] == f"model output: {''.join(tokens).strip()!r}"
    assert_valid_answer(answer)
    (chat,) = [r.body for r in srv.requests if r.path == "/api/chat"]
    assert chat["stream"] is True and chat["keep_alive"] == "10m"
    assert chat["options"] == {
        "num_ctx": 4096,
        "num_predict": served.settings.answer.max_answer_tokens,
        "temperature": 0.0,
        "top_k": 1,
        "repeat_penalty": 1.1,
    }


@pytest.mark.parametrize(
    "split",
    [
        ["Zabihullah Mujahed confirmed that Imam Sahib district was in Taliban hands [", "{n}", "]. "],
        ["Zabihullah Mujahed confirmed that Imam Sahib district was in Taliban hands ", "[{n}", "]", ". "],
        ["Zabihullah Mujahed confirmed that Imam Sahib district was in Taliban hands [{n}]", ".", " "],
    ],
    ids=["bracket|number|close", "open-number|close|period", "marker|period"],
)
def test_marker_split_across_chunks_is_parsed(
    served: Pipeline, srv: OllamaTestServer, split: list[str]
) -> None:
    n = marker_for(srv, served, "Mujahed confirmed")
    first = [c.format(n=n) for c in split]
    srv.configure(reply_chunks=[*first, "The district", " is near", " Tajikistan."])
    events = list(served.stream(CONFIRMED))
    kinds = [ev.type for ev in events]
    tokens = [ev.data["text"] for ev in events if ev.type == "token"]
    assert tokens == [*first, "The district", " is near", " Tajikistan."]
    # The verified extractive answer comes before the first token; the claims after the last.
    assert kinds.index("draft") < kinds.index("token")
    assert kinds.index("claim") > max(i for i, k in enumerate(kinds) if k == "token") and kinds[-1] == "done"
    answer = events[-1].data["answer"]
    assert_valid_answer(answer)
    assert answer.mode == "generated" and answer.short_answer == "Zabihullah Mujahed"
    assert "Mujahed confirmed" in answer.citations[0].quote


# --- failures: at start -----------------------------------------------------------------------------------


def test_auto_falls_back_to_the_embedded_model_when_ollama_is_down(seed_settings: Settings) -> None:
    url = OllamaTestServer.unused_url()
    settings = ollama_settings(seed_settings.index.data_dir, url, llm="auto")
    llm, choice = make_llm(settings)
    assert isinstance(llm, LlamaCppLLM)
    assert (choice.backend, choice.reason) == (
        "llamacpp",
        f"auto: Ollama is not reachable at {url}; using the embedded model",
    )


def test_auto_falls_back_when_ollama_hangs() -> None:
    with OllamaTestServer(hang=True) as srv:
        url = srv.url
        choice = choose_backend(Settings(llm="auto", ollama_host=url, ollama_model=CHAT))
    assert (choice.backend, choice.reason) == (
        "llamacpp",
        f"auto: Ollama at {url} did not answer within 2 s; using the embedded model",
    )


def test_auto_uses_ollama_when_it_has_the_model(srv: OllamaTestServer) -> None:
    choice = choose_backend(Settings(llm="auto", ollama_host=srv.url, ollama_model=CHAT))
    assert (choice.backend, choice.reason) == ("ollama", f"auto: Ollama at {srv.url} has '{CHAT}'")


def test_ollama_mode_fails_fast_when_ollama_is_down(seed_settings: Settings, retriever: Retriever) -> None:
    url = OllamaTestServer.unused_url()
    with pytest.raises(BackendError) as e:
        Pipeline(ollama_settings(seed_settings.index.data_dir, url), retriever=retriever)
    assert str(e.value) == (
        f"Ollama is not reachable at {url}: start it with `ollama serve`, or set QA_LLM=llamacpp."
    )


def test_model_not_pulled_at_start_names_ollama_pull(
    srv: OllamaTestServer, seed_settings: Settings, retriever: Retriever
) -> None:
    srv.configure(models=[EMBED])
    pull = (
        f"Ollama at {srv.url} does not have the model '{CHAT}': run `ollama pull {CHAT}`, "
        "or set QA_OLLAMA_MODEL to a model it has (`ollama list`)."
    )
    with pytest.raises(BackendError) as e:
        Pipeline(ollama_settings(seed_settings.index.data_dir, srv.url), retriever=retriever)
    assert str(e.value) == pull
    auto = choose_backend(ollama_settings(seed_settings.index.data_dir, srv.url, llm="auto"))
    assert (auto.backend, auto.reason) == (
        "llamacpp",
        f"auto: Ollama at {srv.url} does not have '{CHAT}' (`ollama pull {CHAT}`); using the embedded model",
    )


# --- failures: mid-session ---------------------------------------------------------------------------------


def test_model_removed_mid_session_names_ollama_pull(served: Pipeline, srv: OllamaTestServer) -> None:
    srv.configure(models=[EMBED])
    events, error = drain(served.stream(CONFIRMED))
    assert isinstance(error, BackendError)
    assert str(error) == (
        f"Ollama at {srv.url} does not have the model '{CHAT}': run `ollama pull {CHAT}`, "
        "or set QA_OLLAMA_MODEL to a model it has (`ollama list`)."
    )
    assert "done" not in [ev.type for ev in events]


@pytest.mark.slow
def test_dropped_connection_ends_the_stream_with_an_error_and_no_answer(
    served: Pipeline, srv: OllamaTestServer
) -> None:
    srv.configure(drop_after_chunks=3)
    events, error = drain(served.stream(CONFIRMED))
    assert isinstance(error, BackendError)
    assert str(error) == (
        f"The connection to Ollama at {srv.url} dropped mid-answer; the partial answer was discarded. "
        "Ask again."
    )
    assert [ev.type for ev in events] == ["meta", "draft", "token", "token", "token"]
    with pytest.raises(BackendError, match="dropped mid-answer"):
        served.ask(CONFIRMED)  # never a partial Answer


def test_drop_after_the_draft_shows_the_verified_draft_then_the_error(
    served: Pipeline, srv: OllamaTestServer
) -> None:
    srv.configure(reply_chunks=["Paris is the capital of France [1]. ", "More", " text", " here"])
    srv.configure(drop_after_chunks=2)
    events, error = drain(served.stream(CONFIRMED))
    assert isinstance(error, BackendError) and "dropped mid-answer" in str(error)
    drafts = [ev.data["answer"] for ev in events if ev.type == "draft"]
    assert len(drafts) == 1 and "Mujahed" in drafts[0].short_answer  # verified before the model ran
    assert_valid_answer(drafts[0])
    assert all(ev.type not in ("claim", "done") for ev in events)
    assert all("Paris" not in ev.data.get("text", "") for ev in events if ev.type == "claim")


def test_error_line_inside_the_stream_is_an_error(served: Pipeline, srv: OllamaTestServer) -> None:
    srv.configure(reply_chunks=["Zabihullah", " Mujahed", " confirmed"], error_after_chunks=2)
    events, error = drain(served.stream(CONFIRMED))
    assert isinstance(error, BackendError)
    assert str(error) == (
        f"Ollama at {srv.url} failed mid-answer ({srv.error_message}); the partial answer was discarded. "
        "Ask again; if it repeats, check the Ollama server's log."
    )
    assert [ev.type for ev in events] == ["meta", "draft", "token", "token"]


def test_hung_server_times_out_with_the_configured_timeout(
    seed_settings: Settings, retriever: Retriever
) -> None:
    with OllamaTestServer(models=[CHAT]) as srv:
        url = srv.url
        pipe = Pipeline(
            ollama_settings(seed_settings.index.data_dir, srv.url, ollama_timeout_s=2), retriever=retriever
        )
        srv.configure(hang=True)
        events, error = drain(pipe.stream(CONFIRMED))
    assert isinstance(error, BackendError)
    assert str(error) == (
        f"Ollama at {url} sent nothing for 2 s, so the request was abandoned: check the server "
        "(`ollama ps`), or raise QA_OLLAMA_TIMEOUT_S (a large model's first answer also loads it)."
    )
    assert [ev.type for ev in events] == ["meta", "draft"]


# --- the context window -----------------------------------------------------------------------------------


def test_evidence_is_trimmed_to_num_ctx_before_sending(
    srv: OllamaTestServer, seed_settings: Settings, retriever: Retriever
) -> None:
    srv.configure(reply_chunks=[REFUSAL])
    question = "What happened in Kunduz province?"
    sent = {}
    for num_ctx in (512, 4096):
        settings = ollama_settings(
            seed_settings.index.data_dir, srv.url, ollama_num_ctx=num_ctx, top_k=20, max_answer_tokens=16
        )
        answer = Pipeline(settings, retriever=retriever).ask(question)
        (chat,) = [r.body for r in srv.requests if r.path == "/api/chat"]
        srv.clear_requests()
        assert chat["options"]["num_ctx"] == num_ctx
        # prompt_eval_count is the server's own count with the model's tokenizer, after templating.
        assert answer.timings["prompt_tokens"] + 16 <= num_ctx
        sent[num_ctx] = len(evidence_lines(chat))
    assert 1 <= sent[512] < sent[4096]


def test_a_prompt_the_server_truncated_is_an_error_not_an_answer(
    srv: OllamaTestServer, seed_settings: Settings, retriever: Retriever, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Backstop for a tokenizer the estimate undercounts: the server's count shows the truncation."""
    srv.configure(reply_chunks=[REFUSAL])
    settings = ollama_settings(seed_settings.index.data_dir, srv.url, ollama_num_ctx=512, top_k=20)
    pipe = Pipeline(settings, retriever=retriever)
    monkeypatch.setattr(pipe.llm, "count_tokens", lambda text: 1)
    with pytest.raises(BackendError) as e:
        pipe.ask("What happened in Kunduz province?")
    assert str(e.value) == (
        "The prompt did not fit Ollama's context window (num_ctx=512) and the server truncated it, so the "
        "answer was discarded: raise QA_OLLAMA_NUM_CTX or lower QA_TOP_K."
    )


def test_num_ctx_is_capped_at_the_models_context_length(srv: OllamaTestServer) -> None:
    llm = OllamaLLM(Settings(ollama_host=srv.url, ollama_model=CHAT, ollama_num_ctx=32768))
    assert llm.n_ctx == 8192  # SmolLM2's trained context, from /api/show: Ollama would clamp to it


# --- embeddings through Ollama ------------------------------------------------------------------------


def test_ollama_embeddings_index_is_stamped_and_guarded(srv: OllamaTestServer, tmp_path: Path) -> None:
    from index.build import index_corpus
    from index.embed import OllamaEmbedder, make_embedder

    data = tmp_path / "ollama-index"
    settings = Settings(data_dir=data, corpus_dir=SEEDS, embed=f"ollama:{EMBED}", ollama_host=srv.url)
    assert isinstance(make_embedder(settings.index, settings.llm), OllamaEmbedder)
    report = index_corpus(settings.index, ollama=settings.llm)
    assert len(report.added) == 5 and report.sentences_embedded > 0
    embeds = [r.body for r in srv.requests if r.path == "/api/embed"]
    assert embeds and all(b["model"] == EMBED for b in embeds)
    hits = Retriever(settings).retrieve(CONFIRMED).hits
    assert any("Mujahed" in h.sentence.text for h in hits[:5])
    with pytest.raises(IndexMismatchError) as e:
        Retriever(Settings(data_dir=data, corpus_dir=SEEDS))  # the default ONNX embedder
    assert str(e.value) == (
        f"The index was built with embedding model ollama:{EMBED} (dimension 384), but onnx:all-MiniLM-L6-v2 "
        "(dimension 384) is configured; run `qa index --rebuild` to rebuild it, or set QA_EMBED back."
    )


def test_embedding_model_not_pulled_names_ollama_pull(srv: OllamaTestServer, tmp_path: Path) -> None:
    from index.build import index_corpus

    settings = Settings(
        data_dir=tmp_path, corpus_dir=SEEDS, embed="ollama:nomic-embed-text", ollama_host=srv.url
    )
    with pytest.raises(BackendError) as e:
        index_corpus(settings.index, ollama=settings.llm)
    assert str(e.value) == (
        f"Ollama at {srv.url} does not have the embedding model 'nomic-embed-text': "
        "run `ollama pull nomic-embed-text`, or set QA_EMBED=onnx:all-MiniLM-L6-v2."
    )


def test_embeddings_with_ollama_down_say_what_to_do(tmp_path: Path) -> None:
    from index.embed import make_embedder

    url = OllamaTestServer.unused_url()
    with pytest.raises(BackendError) as e:
        s = Settings(data_dir=tmp_path, embed=f"ollama:{EMBED}", ollama_host=url)
        make_embedder(s.index, s.llm)
    assert str(e.value) == (
        f"Ollama is not reachable at {url} for embeddings: start it with `ollama serve`, "
        "or set QA_EMBED=onnx:all-MiniLM-L6-v2 (then `qa index --rebuild`)."
    )


# --- qa doctor --------------------------------------------------------------------------------------------


def run_doctor(
    env: dict[str, str], cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> list[str]:
    """`qa doctor` in this process, with exactly `env`'s QA_ settings, from `cwd` (no .env there)."""
    from qa.cli import main

    for k in list(os.environ):
        if k.startswith("QA_") or k == "OLLAMA_HOST":
            monkeypatch.delenv(k)
    for k, v in env.items():
        if k.startswith("QA_"):
            monkeypatch.setenv(k, v)
    monkeypatch.chdir(cwd)
    capsys.readouterr()
    code = main(["doctor"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out.splitlines()


def doctor_env(data: Path, url: str, **extra: str) -> dict[str, str]:
    return {"QA_DATA_DIR": str(data), "QA_OLLAMA_HOST": url, "QA_OLLAMA_MODEL": CHAT} | extra


@pytest.mark.parametrize("case", ["has-model", "down", "not-pulled"])
def test_doctor_reports_ollama_and_the_choice(
    srv: OllamaTestServer,
    tmp_path: Path,
    case: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = tmp_path / "data"
    url = OllamaTestServer.unused_url() if case == "down" else srv.url
    if case == "not-pulled":
        srv.configure(models=[EMBED])
    env = doctor_env(data, url, QA_LLM="ollama" if case == "not-pulled" else "auto")
    lines = run_doctor(env, tmp_path, monkeypatch, capsys)
    head = [
        f"data dir:      {data}",
        f"corpus dir:    {SEEDS}",
        f"store:         on disk ({data / 'chroma'})",
        "index:         There is no index yet: run `qa index` (or `make run`) first.",
    ]
    ollama_line = {
        "has-model": f"ollama:        reachable at {url} (version 0.12.6); models: {CHAT}, {EMBED}:latest",
        "down": f"ollama:        Ollama is not reachable at {url}: start it with `ollama serve`, "
        "or set QA_LLM=llamacpp.",
        "not-pulled": f"ollama:        reachable at {url} (version 0.12.6); models: {EMBED}:latest",
    }[case]
    backend_line = {
        "has-model": f"backend:       ollama (auto: Ollama at {url} has '{CHAT}')",
        "down": f"backend:       llamacpp (auto: Ollama is not reachable at {url}; using the embedded model)",
        "not-pulled": f"backend:       QA_LLM=ollama cannot be used: Ollama at {url} does not have the model "
        f"'{CHAT}': run `ollama pull {CHAT}`, or set QA_OLLAMA_MODEL to a model it has (`ollama list`).",
    }[case]
    assert lines == [*head, ollama_line, f"embedded:      {default_gguf()}", backend_line]
