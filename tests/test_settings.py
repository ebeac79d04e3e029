"""Settings per layer: flat and nested environment names, `.env`, keywords, and which wins."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from index.embed import make_embedder
from index.errors import QAError, SettingsError
from index.settings import IndexSettings
from qa.settings import Settings, load_settings


@pytest.mark.parametrize(
    ("env", "section", "name", "value"),
    [
        ({"QA_TOP_K": "7"}, "retrieval", "top_k", 7),
        ({"QA_RETRIEVAL__TOP_K": "8"}, "retrieval", "top_k", 8),
        ({"QA_TOP_K": "7", "QA_RETRIEVAL__TOP_K": "8"}, "retrieval", "top_k", 8),  # nested wins
        ({"QA_LLM": "llamacpp"}, "llm", "backend", "llamacpp"),
        ({"QA_LLM__BACKEND": "ollama"}, "llm", "backend", "ollama"),
        ({"OLLAMA_HOST": "http://10.0.0.1:1"}, "llm", "ollama_host", "http://127.0.0.1:9"),  # QA_ first
        ({"QA_MODEL_ANSWERS": "never"}, "answer", "refine", "never"),
        ({"QA_MODEL_ANSWERS": "never", "QA_REFINE": "weak"}, "answer", "refine", "weak"),
        ({"QA_RRF_K": "10"}, "retrieval", "rrf_k", 10),
        ({"QA_INDEX__MAX_SENTENCE_CHARS": "300"}, "index", "max_sentence_chars", 300),
        ({"QA_API_TOKEN": "t"}, "server", "api_token", "t"),
    ],
)
def test_environment_names(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], section: str, name: str, value: object
) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert getattr(getattr(Settings(), section), name) == value


def test_ollama_host_is_also_read_from_ollama_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QA_OLLAMA_HOST")
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:5")
    assert Settings().llm.ollama_host == "http://127.0.0.1:5"


def test_dot_env_is_read_and_the_environment_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("QA_TOP_K=9\nQA_LLM=ollama\nQA_ANSWER__MAX_CITED=3\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QA_LLM", "llamacpp")
    s = Settings()
    assert (s.retrieval.top_k, s.llm.backend, s.answer.max_cited) == (9, "llamacpp", 3)


def test_keywords_take_flat_names_and_sections_and_beat_the_environment(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, refine="never", llm="llamacpp")
    assert (s.index.data_dir, s.answer.refine, s.llm.backend) == (tmp_path, "never", "llamacpp")
    whole = Settings(index=IndexSettings(data_dir=tmp_path / "x"))
    assert whole.index.data_dir == tmp_path / "x"
    with pytest.raises(TypeError, match="no setting 'top_kk'"):
        Settings(top_kk=3)


def test_replaced_changes_by_flat_name_and_keeps_the_rest(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, top_k=3)
    r = s.replaced(refine="always", corpus_dir=tmp_path / "c")
    assert (r.answer.refine, r.index.corpus_dir, r.index.data_dir, r.retrieval.top_k) == (
        "always",
        tmp_path / "c",
        tmp_path,
        3,
    )
    assert s.answer.refine == "auto"


def test_load_settings_turns_a_bad_value_into_a_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_CANDIDATES", "2")
    with pytest.raises(SettingsError) as e:
        load_settings()
    assert str(e.value) == (
        "QA_CANDIDATES='2' is not a valid setting: it must be a whole number at least 5 (default 30); "
        "fix it or unset QA_CANDIDATES."
    )
    assert isinstance(e.value, QAError)


def test_an_ollama_embedder_needs_the_server(tmp_path: Path) -> None:
    with pytest.raises(QAError, match="no Ollama server was given"):
        make_embedder(IndexSettings(data_dir=tmp_path, embed="ollama:all-minilm"))


def test_replaced_validates_the_new_value(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="less than or equal to 20"):
        Settings(data_dir=tmp_path).replaced(top_k=99)
    assert Settings(data_dir=tmp_path).replaced(corpus_dir=str(tmp_path)).index.corpus_dir == tmp_path
