"""The Ollama test server speaks Ollama's wire protocol: checked with the official clients.

Every test talks HTTP to a real server on 127.0.0.1 through `ollama.Client` (and llama-index's `Ollama`
LLM at the end), so a protocol detail the clients rely on cannot drift unnoticed. Generations are capped
at a few tokens: the packaged model decodes about 55 tokens/s on 2 cores.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator

import httpx
import ollama
import pytest

from tests.ollama_server import OllamaTestServer, truncate_prompt

CHAT_MODEL = "smollm2:135m"
EMBED_MODEL = "all-minilm"
FAST = {"num_predict": 8, "temperature": 0, "seed": 1}
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
METRICS = ("total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration")
METRICS += ("eval_count", "eval_duration")


@pytest.fixture(scope="module")
def server() -> Iterator[OllamaTestServer]:
    with OllamaTestServer(models=[CHAT_MODEL, EMBED_MODEL]) as srv:
        yield srv


@pytest.fixture
def srv(server: OllamaTestServer) -> Iterator[OllamaTestServer]:
    """The shared server with faults cleared and an empty request log."""
    server.configure(models=[CHAT_MODEL, EMBED_MODEL], drop_after_chunks=None, error_after_chunks=None)
    server.configure(hang=False)
    server.clear_requests()
    yield server


@pytest.fixture
def client(srv: OllamaTestServer) -> ollama.Client:
    return ollama.Client(host=srv.url, timeout=60)


def assert_final(obj: dict, *, content_key: str) -> None:
    """The last object of a generation: done, a reason, and every metric as a non-negative integer."""
    assert obj["done"] is True
    assert obj["done_reason"] in ("stop", "length")
    for key in METRICS:
        assert isinstance(obj[key], int) and obj[key] >= 0, key
    assert obj["prompt_eval_count"] > 0 and obj["eval_count"] > 0
    assert obj["total_duration"] >= obj["prompt_eval_duration"] + obj["eval_duration"]
    assert content_key in obj


# --- metadata endpoints -------------------------------------------------------------------------------


def test_version(srv: OllamaTestServer) -> None:
    r = httpx.get(f"{srv.url}/api/version")
    assert r.status_code == 200
    assert r.json()["version"].count(".") == 2


def test_root_says_running(srv: OllamaTestServer) -> None:
    assert httpx.get(srv.url).text == "Ollama is running"


def test_list_models(client: ollama.Client, srv: OllamaTestServer) -> None:
    models = {m.model: m for m in client.list().models}
    assert set(models) == {CHAT_MODEL, "all-minilm:latest"}
    chat = models[CHAT_MODEL]
    assert chat.size and chat.size > 50_000_000
    assert chat.details is not None and chat.details.format == "gguf" and chat.details.family == "llama"
    raw = httpx.get(f"{srv.url}/api/tags").json()["models"][0]
    assert {"name", "model", "modified_at", "size", "digest", "details"} <= set(raw)
    assert {"format", "family", "parameter_size", "quantization_level"} <= set(raw["details"])
    assert len(raw["digest"]) == 64


def test_show_reports_context_length_from_the_gguf(client: ollama.Client) -> None:
    info = client.show(CHAT_MODEL)
    assert info.modelinfo is not None
    assert info.modelinfo["general.architecture"] == "llama"
    assert info.modelinfo["llama.context_length"] == 8192
    assert info.capabilities == ["completion"]
    assert info.template and "<|im_start|>" in info.template
    assert info.details is not None and info.details.quantization_level == "Q4_1"
    assert info.parameters and "stop" in info.parameters


def test_show_embedding_model(client: ollama.Client) -> None:
    info = client.show(EMBED_MODEL)
    assert info.capabilities == ["embedding"]
    assert info.modelinfo is not None and info.modelinfo["bert.embedding_length"] == 384


# --- generation ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_chat_stream(client: ollama.Client) -> None:
    parts = list(client.chat(model=CHAT_MODEL, messages=QUESTION, stream=True, options=FAST))
    *pieces, last = parts
    assert pieces and all(p.done is False and p.message.role == "assistant" for p in pieces)
    assert "".join(p.message.content or "" for p in pieces).strip()
    assert_final(last.model_dump(), content_key="message")
    assert last.message.content == ""
    assert last.eval_count is not None and last.eval_count <= 8


@pytest.mark.slow
def test_chat_stream_is_ndjson_over_chunked_http(srv: OllamaTestServer) -> None:
    body = {"model": CHAT_MODEL, "messages": QUESTION, "options": FAST}
    with httpx.stream("POST", f"{srv.url}/api/chat", json=body, timeout=60) as r:
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/x-ndjson"
        assert r.headers["transfer-encoding"] == "chunked"
        lines = [json.loads(line) for line in r.iter_lines() if line]
    assert [obj["done"] for obj in lines] == [False] * (len(lines) - 1) + [True]
    assert all(obj["model"] == CHAT_MODEL and obj["created_at"].endswith("Z") for obj in lines)


@pytest.mark.slow
def test_chat_non_stream(client: ollama.Client) -> None:
    r = client.chat(model=CHAT_MODEL, messages=QUESTION, stream=False, options=FAST)
    assert r.message.role == "assistant" and r.message.content
    assert_final(r.model_dump(), content_key="message")


@pytest.mark.slow
def test_generate_stream(client: ollama.Client) -> None:
    *pieces, last = list(client.generate(model=CHAT_MODEL, prompt="Say hello.", stream=True, options=FAST))
    assert "".join(p.response for p in pieces).strip()
    assert_final(last.model_dump(), content_key="response")
    assert last.context and len(last.context) == last.prompt_eval_count + last.eval_count


@pytest.mark.slow
def test_generate_non_stream(client: ollama.Client) -> None:
    r = client.generate(model=CHAT_MODEL, prompt="Say hello.", stream=False, options=FAST)
    assert r.response.strip()
    assert_final(r.model_dump(), content_key="response")


@pytest.mark.slow
def test_num_predict_ends_with_length(client: ollama.Client) -> None:
    r = client.generate(model=CHAT_MODEL, prompt="Count: one, two,", options={**FAST, "num_predict": 3})
    assert (r.eval_count, r.done_reason) == (3, "length")


@pytest.mark.slow
def test_stop_string_cuts_the_answer(client: ollama.Client) -> None:
    opts = {**FAST, "num_predict": 12}
    full = client.generate(model=CHAT_MODEL, prompt="Describe Paris.", options=opts).response
    words = full.split()
    assert len(words) >= 3, full
    stop = words[2]
    cut = client.generate(model=CHAT_MODEL, prompt="Describe Paris.", options={**opts, "stop": [stop]})
    assert cut.done_reason == "stop"
    assert cut.response == full[: full.index(stop)]


@pytest.mark.slow
def test_long_prompt_is_truncated_silently_to_num_ctx(client: ollama.Client) -> None:
    """Real Ollama keeps the prompt's first num_keep tokens and its end; the product must trim itself."""
    prompt = " ".join(f"fact{i}" for i in range(120))
    small = client.generate(model=CHAT_MODEL, prompt=prompt, options={"num_ctx": 64, "num_predict": 1})
    roomy = client.generate(model=CHAT_MODEL, prompt=prompt, options={"num_ctx": 2048, "num_predict": 1})
    assert small.prompt_eval_count == 64
    assert roomy.prompt_eval_count is not None and roomy.prompt_eval_count > 64


def test_truncation_keeps_the_head_and_the_end() -> None:
    tokens = list(range(100))
    assert truncate_prompt(tokens, 10, 4) == [0, 1, 2, 3, 94, 95, 96, 97, 98, 99]
    assert truncate_prompt(tokens, 200, 4) == tokens


@pytest.mark.slow
def test_empty_request_loads_and_keep_alive_zero_unloads(client: ollama.Client) -> None:
    assert client.chat(model=CHAT_MODEL, messages=[]).done_reason == "load"
    assert CHAT_MODEL in {m.model for m in client.ps().models}
    assert client.generate(model=CHAT_MODEL, prompt="", keep_alive=0).done_reason == "unload"
    assert CHAT_MODEL not in {m.model for m in client.ps().models}


@pytest.mark.slow
def test_two_clients_at_once_both_get_answers(srv: OllamaTestServer) -> None:
    answers: list[str] = []

    def ask() -> None:
        c = ollama.Client(host=srv.url, timeout=60)
        answers.append(c.chat(model=CHAT_MODEL, messages=QUESTION, options=FAST).message.content or "")

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 2 and all(answers)


# --- embeddings ---------------------------------------------------------------------------------------


def test_embed_list_gives_unit_vectors_of_384(client: ollama.Client) -> None:
    r = client.embed(
        model=EMBED_MODEL, input=["A cat sat on the mat.", "A kitten sat on a rug.", "Bond yields"]
    )
    assert len(r.embeddings) == 3
    assert all(len(v) == 384 and math.isclose(math.hypot(*v), 1.0, abs_tol=1e-4) for v in r.embeddings)
    cat, kitten, bonds = r.embeddings
    assert sum(a * b for a, b in zip(cat, kitten, strict=True)) > sum(
        a * b for a, b in zip(cat, bonds, strict=True)
    )
    assert r.prompt_eval_count and r.prompt_eval_count > 3


def test_embed_single_string(client: ollama.Client) -> None:
    r = client.embed(model=EMBED_MODEL, input="hello world")
    assert len(r.embeddings) == 1 and len(r.embeddings[0]) == 384


# --- errors and faults --------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["chat", "generate", "show", "embed"])
def test_unknown_model_is_404(client: ollama.Client, endpoint: str) -> None:
    calls = {
        "chat": lambda: client.chat(model="llama3:8b", messages=QUESTION),
        "generate": lambda: client.generate(model="llama3:8b", prompt="hi"),
        "show": lambda: client.show("llama3:8b"),
        "embed": lambda: client.embed(model="llama3:8b", input="hi"),
    }
    with pytest.raises(ollama.ResponseError) as e:
        calls[endpoint]()
    assert e.value.status_code == 404
    assert e.value.error == "model 'llama3:8b' not found"


def test_model_not_pulled_is_404(srv: OllamaTestServer, client: ollama.Client) -> None:
    srv.configure(models=[EMBED_MODEL])
    with pytest.raises(ollama.ResponseError) as e:
        client.chat(model=CHAT_MODEL, messages=QUESTION)
    assert e.value.status_code == 404


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", "missing request body"),
        (b"{not json", None),
        (b'{"messages": []}', "model is required"),
        (b'{"model": "smollm2:135m", "options": {"num_predict": "many"}}', 'option "num_predict"'),
    ],
)
def test_bad_requests_answer_json_errors(srv: OllamaTestServer, body: bytes, error: str | None) -> None:
    r = httpx.post(f"{srv.url}/api/generate", content=body)
    assert r.status_code in (400, 500)
    assert r.headers["content-type"].startswith("application/json")
    if error:
        assert error in r.json()["error"]
    else:
        assert r.status_code == 400 and r.json()["error"]


def test_embedding_model_cannot_chat(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as e:
        client.chat(model=EMBED_MODEL, messages=QUESTION)
    assert e.value.status_code == 400 and "does not support chat" in e.value.error


@pytest.mark.slow
def test_connection_dropped_mid_stream_is_an_error_not_a_clean_end(
    srv: OllamaTestServer, client: ollama.Client
) -> None:
    srv.configure(drop_after_chunks=2)
    received = []
    with pytest.raises(httpx.RemoteProtocolError):
        for part in client.chat(model=CHAT_MODEL, messages=QUESTION, stream=True, options=FAST):
            received.append(part)
    assert len(received) == 2 and not any(p.done for p in received)


@pytest.mark.slow
def test_in_stream_error_line_raises_response_error(srv: OllamaTestServer, client: ollama.Client) -> None:
    srv.configure(error_after_chunks=1)
    with pytest.raises(ollama.ResponseError, match="unexpected EOF"):
        list(client.generate(model=CHAT_MODEL, prompt="Hi", stream=True, options=FAST))


def test_hung_server_times_out_and_still_closes_cleanly() -> None:
    srv = OllamaTestServer(hang=True).start()
    try:
        with pytest.raises(httpx.ReadTimeout):
            ollama.Client(host=srv.url, timeout=0.5).chat(model=CHAT_MODEL, messages=QUESTION)
    finally:
        srv.close()  # must return although a handler is parked on the hung request


def test_nothing_listening_is_a_connection_error() -> None:
    with pytest.raises(ConnectionError, match="Failed to connect to Ollama"):
        ollama.Client(host=OllamaTestServer.unused_url(), timeout=5).list()


def test_control_endpoint_sets_faults(srv: OllamaTestServer) -> None:
    r = httpx.post(f"{srv.url}/_control", json={"drop_after_chunks": 1, "models": [CHAT_MODEL]})
    assert r.json()["drop_after_chunks"] == 1 and srv.drop_after_chunks == 1
    assert httpx.post(f"{srv.url}/_control", json={"bogus": 1}).status_code == 400
    assert srv.requests == []  # control calls are not recorded as client traffic


# --- llama-index ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_llama_index_complete_and_stream_chat(srv: OllamaTestServer) -> None:
    from llama_index.core.llms import ChatMessage
    from llama_index.llms.ollama import Ollama

    llm = Ollama(
        model=CHAT_MODEL,
        base_url=srv.url,
        request_timeout=60,
        context_window=2048,
        temperature=0,
        additional_kwargs={"num_predict": 8, "seed": 1},
    )
    assert llm.complete("Name a colour.").text.strip()
    deltas = [r.delta or "" for r in llm.stream_chat([ChatMessage(role="user", content="Name a fruit.")])]
    assert "".join(deltas).strip()
    sent = [r.body for r in srv.requests if r.path == "/api/chat"]
    assert len(sent) == 2 and all(b["options"]["num_ctx"] == 2048 for b in sent)
    assert sent[0]["stream"] is False and sent[1]["stream"] is True


def test_llama_index_reads_context_window_from_show(srv: OllamaTestServer) -> None:
    from llama_index.llms.ollama import Ollama

    llm = Ollama(model=CHAT_MODEL, base_url=srv.url, request_timeout=10)
    assert llm.metadata.context_window == 8192
    assert [r.path for r in srv.requests] == ["/api/show"]
