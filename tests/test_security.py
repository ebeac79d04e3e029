"""Security: nothing outside the corpus is served (API and the Gradio mount), loopback is the default bind,
the token guards every API route, Gradio is new enough and never shared, and the test socket guard holds.
"""

from __future__ import annotations

import ast
import http.client
import inspect
import re
import socket
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from qa.api.app import create_app, serve
from qa.cli import build_parser
from qa.pipeline import Pipeline
from qa.retrieve import Retriever
from qa.service import QAService
from tests.live_server import ROOT, SEEDS, LiveServer, ScriptedLLM, auth, settings_from_env, start_server

TOKEN = "tok-3f9a"
SECRET_MARKERS = (b"root:x:0:0", b"[project]", b"SQLite format 3", b"PRIVATE KEY")


@pytest.fixture(scope="module")
def server(seed_data_dir: Path) -> Iterator[LiveServer]:
    """The whole app (API and chat UI) with a token, over the seed index, scripted backend."""
    settings = settings_from_env(QA_DATA_DIR=str(seed_data_dir), QA_CORPUS_DIR=str(SEEDS), QA_API_TOKEN=TOKEN)
    service = QAService(
        settings, pipeline=Pipeline(settings, llm=ScriptedLLM(), retriever=Retriever(settings))
    )
    live = start_server(create_app(settings, service), settings, service)
    yield live
    live.stop()


def raw_get(base: str, raw_path: str, token: str | None = None) -> tuple[int, bytes]:
    """GET a path exactly as written (no client-side normalisation of `..` or `%2e`)."""
    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port, timeout=30)
    try:
        conn.putrequest("GET", raw_path, skip_accept_encoding=True)
        if token:
            conn.putheader("Authorization", f"Bearer {token}")
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _ui_traversals(seed_data_dir: Path) -> list[str]:
    db = seed_data_dir / "chroma" / "chroma.sqlite3"
    seed = SEEDS / "000_f9686eb01d8f09a5.txt"
    paths = []
    for target in ("/etc/passwd", str(ROOT / "pyproject.toml"), str(db), str(seed)):
        enc = target.replace("/", "%2F")
        paths += [
            f"/ui/file={target}",
            f"/ui/file={enc}",
            f"/ui/gradio_api/file={target}",
            f"/ui/gradio_api/file={enc}",
            f"/ui/gradio_api/file=..%2F..%2F..%2F..%2F..%2F..{enc}",
        ]
    paths += [
        "/ui/static/../../../../../../etc/passwd",
        "/ui/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/ui/assets/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/ui/gradio_api/static/../../../../../etc/passwd",
        "/ui/../../../../etc/passwd",
        "/ui/favicon.ico/../../../../etc/passwd",
        "/ui/gradio_api/upload/../../../../etc/passwd",
        "/ui/gradio_api/file=/proc/self/environ",
        "/ui/file=/proc/self/environ",
        "/ui/custom_component/../../../../etc/passwd",
    ]
    return paths


def test_gradio_mount_serves_no_file_outside_its_assets(server: LiveServer, seed_data_dir: Path) -> None:
    for path in _ui_traversals(seed_data_dir):
        for token in (None, TOKEN):
            status, body = raw_get(server.url, path, token)
            assert not any(m in body for m in SECRET_MARKERS), (path, status, body[:200])
            assert b"QA_API_TOKEN" not in body or status == 401, path
            assert status != 200 or b"<html" in body.lower()[:2000] or len(body) < 100_000, (path, status)


def test_api_sources_never_reads_the_file_system(server: LiveServer) -> None:
    for path in ("/api/sources/..%2F..%2Fpyproject.toml", "/api/sources/%2Fetc%2Fpasswd", "/api/sources/.."):
        status, body = raw_get(server.url, path, TOKEN)
        assert status == 404 and not any(m in body for m in SECRET_MARKERS), (path, body[:200])


def test_every_api_route_needs_the_token(server: LiveServer) -> None:
    paths = create_app(server.settings, server.service, ui=False).openapi()["paths"]
    assert set(paths) == {
        "/api/ask",
        "/api/ask/stream",
        "/api/sources/{file}",
        "/api/health",
        "/api/documents",
        "/api/documents/{name}",
        "/v1/models",
        "/v1/chat/completions",
    }, "a new route: check that it is under /api or /v1, which the token guards"
    body = {"question": "q", "messages": [{"role": "user", "content": "Which district?"}]}
    for template, methods in paths.items():
        # A name no article has: DELETE with the token must not remove a seed.
        path = template.replace("{file}", "000_f9686eb01d8f09a5.txt").replace("{name}", "no-such-article.txt")
        for method in methods:
            bare = httpx.request(method.upper(), server.url + path, json=body, timeout=30)
            assert bare.status_code == 401, (method, path)
            ok = httpx.request(method.upper(), server.url + path, json=body, headers=auth(TOKEN), timeout=60)
            assert ok.status_code != 401, (method, path)
    # Spellings that a lax guard might let through reach no route without the token either.
    for path in ("/api//health", "/api/./health", "/api/%2e/health", "/v1/../api/health", "/api/health/"):
        status, body = raw_get(server.url, path)
        assert status in (401, 404, 307), (path, status)
        assert b'"status"' not in body


def test_loopback_is_the_default_bind() -> None:
    args = build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1"
    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"
    assert re.search(r"^HOST \?= 127\.0\.0\.1$", (ROOT / "Makefile").read_text("utf-8"), re.MULTILINE)


def test_gradio_is_patched_and_never_shared() -> None:
    major, minor = (int(x) for x in version("gradio").split(".")[:2])
    assert (major, minor) >= (6, 16), version("gradio")  # CVE-2026-49119 and the file-route traversals
    offenders = []
    for folder in ("qa", "index", "ui"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                if isinstance(node.func, ast.Attribute) and node.func.attr == "launch":
                    offenders.append(f"{where} calls launch()")  # the app is only ever mounted
                for kw in node.keywords:
                    if kw.arg == "share" and not (
                        isinstance(kw.value, ast.Constant) and kw.value.value is False
                    ):
                        offenders.append(f"{where} passes share=")
                    if kw.arg == "allowed_paths" and not (
                        isinstance(kw.value, ast.List) and not kw.value.elts
                    ):
                        offenders.append(f"{where} allows file paths")
    assert offenders == []


@pytest.mark.parametrize("connect", ["connect", "connect_ex", "create_connection"])
def test_socket_guard_refuses_non_loopback(connect: str) -> None:
    """192.0.2.1 is TEST-NET-1: never routed, and never contacted, since the guard raises first."""
    # conftest is imported by pytest under its own module name: match the guard's error by name.
    with pytest.raises(AssertionError, match=r"outbound connection attempted to \('192\.0\.2\.1', 80\)") as e:
        if connect == "create_connection":
            socket.create_connection(("192.0.2.1", 80), timeout=1)
        else:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                getattr(s, connect)(("192.0.2.1", 80))
    assert type(e.value).__name__ == "OutboundConnectionError"
    with socket.socket() as s:  # loopback still works
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        socket.create_connection(s.getsockname(), timeout=5).close()
