"""`POST/GET/DELETE /api/documents` over real HTTP on 127.0.0.1: a live server with the packaged model,
the real pipeline and a real Chroma index of two seeds in tmp, behind a bearer token.

An uploaded article becomes `ready` and answers a question with a citation into it; deleted, the same
question no longer cites it; bad input is skipped with its reason and changes nothing; names with paths
land inside the corpus folder; questions asked while an upload is indexed are all answered, some of them
while the writer holds the index.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from index.build import index_corpus
from qa.service import QAService
from tests.live_server import SEEDS, LiveServer, client, serve, settings_from_env, wait_until
from tests.test_documents import ARTICLE

TOKEN = "doc-token"
QUESTION = "Who led the repainting of the Velmora harbour bridge?"
ROOT = Path(__file__).resolve().parent.parent
EVAL_CORPUS = ROOT / "qa" / "eval" / "sets" / "news-conflict" / "corpus"


def long_article(words: int = 2000) -> str:
    """At least `words` words of real news prose (the news-conflict set's articles, which the test index
    does not hold), joined into one article."""
    parts: list[str] = []
    n = 0
    for p in sorted(EVAL_CORPUS.glob("*.txt")) * 4:
        text = p.read_text("utf-8")
        parts.append(text)
        n += len(text.split())
        if n >= words:
            break
    return "\n\n".join(parts)


def two_seed_server(tmp_path_factory: pytest.TempPathFactory, ui: bool, **env: str) -> LiveServer:
    """A live server (packaged model) over a tmp corpus of two seeds, indexed, with `env` settings."""
    corpus = tmp_path_factory.mktemp("corpus")
    for p in sorted(SEEDS.glob("*.txt"))[:2]:
        shutil.copy(p, corpus / p.name)
    settings = settings_from_env(
        QA_DATA_DIR=str(tmp_path_factory.mktemp("data")),
        QA_CORPUS_DIR=str(corpus),
        QA_LLM="llamacpp",
        QA_OLLAMA_HOST="http://127.0.0.1:9",
        **env,
    )
    index_corpus(settings.index)
    service = QAService(settings)
    service.pipeline()
    return serve(service, ui=ui)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = two_seed_server(
        tmp_path_factory, False, QA_API_TOKEN=TOKEN, QA_MAX_UPLOAD_MB="0.05", QA_CONCURRENCY="4"
    )
    yield server
    server.stop()


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with client(live.url, TOKEN) as c:
        yield c


def _listing(http: httpx.Client) -> dict[str, dict[str, Any]]:
    r = http.get("/api/documents")
    assert r.status_code == 200, r.text
    return {d["name"]: d for d in r.json()["documents"]}


def _ready(http: httpx.Client, names: list[str], timeout: float = 120) -> dict[str, dict[str, Any]]:
    wait_until(lambda: all(_listing(http)[n]["status"] not in ("queued", "indexing") for n in names), timeout)
    return _listing(http)


def _cited_files(http: httpx.Client, question: str) -> set[str]:
    r = http.post("/api/ask", json={"question": question})
    assert r.status_code == 200, r.text
    return {c["file"] for c in r.json()["citations"]}


def test_every_route_needs_the_token_and_is_in_the_schema(live: LiveServer) -> None:
    with httpx.Client(base_url=live.url) as anon:
        assert anon.get("/api/documents").status_code == 401
        assert anon.post("/api/documents", files={"file": ("a.txt", b"x")}).status_code == 401
        assert anon.delete("/api/documents/a.txt").status_code == 401
        paths = anon.get("/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/documents"]) and "delete" in paths["/api/documents/{name}"]
    assert "multipart/form-data" in paths["/api/documents"]["post"]["requestBody"]["content"]


def test_upload_answer_delete(live: LiveServer, http: httpx.Client) -> None:
    assert "velmora.txt" not in _cited_files(http, QUESTION)
    r = http.post("/api/documents", files=[("file", ("velmora.txt", ARTICLE.encode(), "text/plain"))])
    assert r.status_code == 202, r.text
    assert r.json()["files"] == [
        {
            "name": "velmora.txt",
            "uploaded_as": "velmora.txt",
            "status": "queued",
            "replaced": False,
            "reason": None,
        }
    ]
    doc = _ready(http, ["velmora.txt"])["velmora.txt"]
    assert (doc["status"], doc["format"], doc["size"], doc["sentences"]) == ("ready", "txt", len(ARTICLE), 5)

    answer = http.post("/api/ask", json={"question": QUESTION}).json()
    assert not answer["refused"], answer
    cited = [c for c in answer["citations"] if c["file"] == "velmora.txt"]
    assert cited, answer  # answered from the new article, which no other article mentions
    for c in cited:
        assert ARTICLE[c["start"] : c["end"]] == c["quote"]

    r = http.delete("/api/documents/velmora.txt")
    assert r.status_code == 200 and r.json() == {"name": "velmora.txt", "status": "removed"}
    assert not (live.settings.index.corpus_dir / "velmora.txt").exists()
    assert "velmora.txt" not in _listing(http)
    assert "velmora.txt" not in _cited_files(http, QUESTION)
    assert http.get("/api/sources/velmora.txt").status_code == 404
    assert http.delete("/api/documents/velmora.txt").status_code == 404


def test_bad_input_is_skipped_and_changes_nothing(live: LiveServer, http: httpx.Client) -> None:
    corpus = live.settings.index.corpus_dir
    http.post("/api/documents", files=[("file", ("velmora.txt", ARTICLE.encode()))])
    before = _ready(http, ["velmora.txt"])
    files_before = sorted(p.name for p in corpus.iterdir())
    sent = [
        ("tool.exe", b"MZ\x90\x00binary"),
        ("notes.doc", b"\xd0\xcf\x11\xe0 old word"),
        ("empty.txt", b""),
        ("huge.txt", b"word " * 20_000),  # 100 KB, over QA_MAX_UPLOAD_MB=0.05
        ("broken.pdf", b"%PDF-1.4\nnot really a pdf"),
        ("velmora.txt", b"\xff\xfe\x00\x00 binary replacing a good article"),
    ]
    r = http.post("/api/documents", files=[("file", (n, b)) for n, b in sent])
    assert r.status_code == 202, r.text
    reply = {f["name"]: f for f in r.json()["files"]}
    expected_reason = {
        "tool.exe": "a .exe file is not an article format that is read",
        "notes.doc": "save it as .docx",
        "empty.txt": "an empty file",
        "huge.txt": "larger than 0.05 MB (QA_MAX_UPLOAD_MB)",
    }
    for name, reason in expected_reason.items():
        assert reply[name]["status"] == "skipped" and reason in reply[name]["reason"], reply[name]
    assert reply["broken.pdf"]["status"] == "queued"
    assert reply["velmora.txt"]["status"] == "queued" and reply["velmora.txt"]["replaced"] is True

    after = _ready(http, ["broken.pdf", "velmora.txt"])
    assert after["broken.pdf"]["status"] == "skipped" and "PDF" in after["broken.pdf"]["reason"]
    assert after["broken.pdf"]["size"] is None  # not kept in the folder
    kept = after["velmora.txt"]
    assert (kept["status"], kept["sentences"]) == ("ready", before["velmora.txt"]["sentences"])
    assert "binary" in kept["reason"] and "kept" in kept["reason"]
    assert (corpus / "velmora.txt").read_text() == ARTICLE
    assert sorted(p.name for p in corpus.iterdir()) == files_before
    for name, doc in before.items():
        if name != "velmora.txt":
            assert after[name] == doc
    assert "velmora.txt" in _cited_files(http, QUESTION)


@pytest.mark.parametrize(
    ("sent", "stored"),
    [("../../escape.txt", "escape.txt"), ("/tmp/abs.txt", "abs.txt"), ("..\\..\\win.txt", "win.txt")],
)
def test_a_name_with_a_path_is_stored_inside_the_corpus_folder(
    live: LiveServer, http: httpx.Client, sent: str, stored: str
) -> None:
    corpus = live.settings.index.corpus_dir
    outside = sorted(p.name for p in corpus.parent.iterdir())
    r = http.post("/api/documents", files=[("file", (sent, ARTICLE.encode()))])
    assert r.json()["files"][0]["name"] == stored
    assert (corpus / stored).read_text() == ARTICLE
    assert sorted(p.name for p in corpus.parent.iterdir()) == outside
    assert not Path("/tmp/abs.txt").exists() or Path("/tmp/abs.txt").read_text() != ARTICLE
    assert _ready(http, [stored])[stored]["status"] == "ready"
    assert http.delete(f"/api/documents/{stored}").json()["status"] == "removed"


def test_a_nul_byte_in_a_name_is_dropped(live: LiveServer, http: httpx.Client) -> None:
    body = (
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="nul\x00name.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\n" + ARTICLE.encode() + b"\r\n--B--\r\n"
    )
    r = http.post("/api/documents", content=body, headers={"Content-Type": "multipart/form-data; boundary=B"})
    assert r.status_code == 202, r.text
    [f] = r.json()["files"]
    assert "\x00" not in f["name"] and f["name"].endswith(".txt")
    assert (live.settings.index.corpus_dir / f["name"]).is_file()
    _ready(http, [f["name"]])
    assert http.delete(f"/api/documents/{f['name']}").status_code == 200


def test_questions_during_an_upload_are_all_answered(live: LiveServer, http: httpx.Client) -> None:
    statuses: list[str] = []
    answered: list[tuple[int, str, str]] = []  # (HTTP status, status before, status after)
    stop = threading.Event()

    def status() -> str:
        return str(_listing(http).get("longread.txt", {}).get("status", "absent"))

    def ask() -> None:
        with client(live.url, TOKEN) as c:
            while not stop.is_set():
                before = status()
                r = c.post("/api/ask", json={"question": "Which district did the Taliban take?"})
                answered.append((r.status_code, before, status()))

    r = http.post("/api/documents", files=[("file", ("longread.txt", long_article(6000).encode()))])
    assert r.json()["files"][0]["status"] == "queued"
    askers = [threading.Thread(target=ask) for _ in range(3)]
    for t in askers:
        t.start()
    deadline = time.monotonic() + 180
    while (s := status()) != "ready" and time.monotonic() < deadline:
        statuses.append(s)
        time.sleep(0.05)
    stop.set()
    for t in askers:
        t.join(timeout=120)
    assert status() == "ready" and "indexing" in statuses
    assert answered and all(code == 200 for code, _, _ in answered), answered
    # Answered from start to end while the writer held the index: they did not wait for it.
    assert any(b == a == "indexing" for _, b, a in answered), answered
    assert http.delete("/api/documents/longread.txt").status_code == 200
