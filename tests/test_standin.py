"""The capable-model stand-in: its script (qa/eval/standin.py), its server (tests/standin.py), and what our
pipeline makes of its answers on a small sample of an outside set (`qa eval --pipeline standin`).

No language model runs here: the stand-in answers from the set's gold answers in milliseconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import ollama
import pytest

from index.errors import InputError
from qa import cli
from qa.eval.pairs import Pair, load_pairs, sample
from qa.eval.run import SETS_DIR, EvalOptions, EvalResult, evaluate, standin_server
from qa.eval.standin import (
    DEFAULT_MIX,
    Entry,
    Script,
    mode_for,
    parse_mix,
    parse_prompt,
    prompt_of,
)
from qa.eval.standin_score import score_standin, standin_summary
from qa.eval.standin_wrong import clean_value, value_kind, wrong_values
from qa.prompts import REFUSAL
from qa.settings import Settings
from tests.standin import MODEL, StandinServer

RHINE = SETS_DIR / "squad2-rhine"
INSTRUCTION = (
    "Answer from the numbered evidence.\nExample:\n<evidence>\n[1] The bridge was closed on Tuesday.\n"
    "[2] Heavy rain fell.\n</evidence>\nQuestion: When was the bridge closed?\nAnswer: On Tuesday [1]."
)
EVIDENCE = (
    "[1] Basel lies on the Rhine.\n[2] The Rhine is 1,230 km long.\n"
    "[3] It empties into the North Sea near Rotterdam in 1185."
)
USER = f"<evidence>\n{EVIDENCE}\n</evidence>\nQuestion: How long is the Rhine?\nAnswer:"
ENTRIES = [
    Entry("len", "How long is the Rhine?", True, (("1,230 km", "1,230 kilometres"),)),
    Entry("city", "Which city lies on the Rhine?", True, (("Basel",),)),
    Entry("what", "What does the Rhine carry?", True, (("sediment",),)),
    Entry("danube", "How long is the Danube?", False, (), ("1,230 km",)),
    Entry("source", "Where does the Danube start?", False, (), ("North Sea coast",)),
]


def chat(question: str, evidence: str = EVIDENCE) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": INSTRUCTION},
        {"role": "user", "content": f"<evidence>\n{evidence}\n</evidence>\nQuestion: {question}\nAnswer:"},
    ]


# ---- reading the prompt ---------------------------------------------------------------------------------
def test_reads_the_question_and_evidence_not_the_example() -> None:
    want = ((1, "Basel lies on the Rhine."), (2, "The Rhine is 1,230 km long."))
    want += ((3, "It empties into the North Sea near Rotterdam in 1185."),)
    p = prompt_of([{"role": "system", "content": INSTRUCTION}, {"role": "user", "content": USER}])
    assert p is not None and (p.question, p.evidence) == ("How long is the Rhine?", want)
    # instruction and evidence in one message: the example's lines belong to the example's question
    p = prompt_of([{"role": "user", "content": INSTRUCTION + "\n\n" + USER}])
    assert p is not None and (p.question, p.evidence) == ("How long is the Rhine?", want)
    # the question first, the evidence after it
    p = parse_prompt(f"Question: How long is the Rhine?\nEvidence:\n{EVIDENCE}\n")
    assert p is not None and p.evidence == want
    assert parse_prompt("no question here\n[1] text") is None


# ---- the planned mode -----------------------------------------------------------------------------------
def test_mode_is_a_pure_function_of_id_and_seed_with_the_mix_weights() -> None:
    ids = [f"q{i}" for i in range(2000)]
    modes = [mode_for(i, 1, True, False) for i in ids]
    assert modes == [mode_for(i, 1, True, False) for i in ids]
    assert modes != [mode_for(i, 2, True, False) for i in ids]
    share = {m: modes.count(m) / len(ids) for m in set(modes)}
    for m, w in {"gold": 0.4, "wrong_marker": 0.2, "wrong_answer": 0.2, "cannot": 0.2}.items():
        assert abs(share[m] - w) < 0.04, (m, share[m])
    una = [mode_for(i, 1, False, True) for i in ids]
    assert set(una) == {"plausible", "cannot"} and abs(una.count("plausible") / len(ids) - 0.7) < 0.04
    assert {mode_for(i, 1, False, False) for i in ids} == {"cannot"}  # no plausible answer to give
    only_gold = parse_mix("gold=1")
    assert {mode_for(i, 1, True, False, only_gold) for i in ids[:50]} == {"gold"}


def test_mix_parsing() -> None:
    assert str(DEFAULT_MIX) == "gold=4,wrong_marker=2,wrong_answer=2,cannot=2;plausible=7,cannot=3"
    assert parse_mix(str(DEFAULT_MIX)) == DEFAULT_MIX
    assert parse_mix(";cannot=1").answerable == DEFAULT_MIX.answerable
    for bad in ("gold=x", "plausible=1", "gold=1;gold=1", "gold=0", "a;b;c"):
        with pytest.raises(InputError, match="--standin-mix"):
            parse_mix(bad)


# ---- what it plays --------------------------------------------------------------------------------------
@pytest.fixture
def script() -> Script:
    return Script(ENTRIES, seed=1)


def play(script: Script, qid: str, mode: str, evidence: str = EVIDENCE) -> Any:
    entry = next(e for e in ENTRIES if e.id == qid)
    prompt = prompt_of(chat(entry.question, evidence))
    assert prompt is not None
    return script.play(entry, prompt, mode)


def test_gold_answer_with_the_marker_of_its_line(script: Script) -> None:
    r = play(script, "len", "gold")
    assert (r.text, r.played, r.value, r.marker) == ("1,230 km [2].", "gold", "1,230 km", 2)


def test_gold_answer_with_a_wrong_marker(script: Script) -> None:
    r = play(script, "len", "wrong_marker")
    assert r.played == "wrong_marker" and r.marker in (1, 3) and r.text == f"1,230 km [{r.marker}]."
    assert play(script, "len", "wrong_marker") == r  # fixed by id and seed
    only = "[1] The Rhine is 1,230 km long."
    assert play(script, "len", "wrong_marker", only).played == "gold"  # no other line: nothing wrong to cite


def test_wrong_answer_of_the_same_type(script: Script) -> None:
    assert [value_kind(v) for v in ("1,230 km", "Basel", "the North Sea", "ice sheets")] == [
        "number",
        "name",
        "name",
        "phrase",
    ]
    r = play(script, "len", "wrong_answer")  # the only other number, in the gold answer's place
    assert (r.text, r.played, r.value, r.marker) == ("1185 km [3].", "wrong_answer", "1185 km", 3)
    r = play(script, "city", "wrong_answer")  # another capitalised phrase, from a line without "Basel"
    assert (r.value, r.marker) in {("The Rhine", 2), ("North Sea", 3), ("Rotterdam", 3)}
    assert r.text == f"{r.value} [{r.marker}]."
    r = play(script, "len", "wrong_answer", "[1] The Rhine is 1,230 km long.")
    assert (r.played, r.text) == ("cannot", REFUSAL)  # no same-type value: nothing to assert


@pytest.mark.parametrize(
    ("gold", "line", "wrong"),
    [
        ("1469", "In 1 year 1500 people came, 12 of them in 1523.", ["1500", "1523"]),  # four digits first
        ("6th century BC", "The 1st century saw the 12th legion in 1469.", ["1st century BC"]),  # ordinal
        ("120 m", "It fell in the 1990s by 35 m.", ["35 m"]),  # "1990s" is not a number token
        ("1,230 km", "The Danube is 2,850 km long.", ["2,850 km"]),
    ],
)
def test_wrong_numbers_are_of_the_same_kind(gold: str, line: str, wrong: list[str]) -> None:
    found = wrong_values(gold, [gold], [(1, line), (2, f"It is {gold}.")], {2})
    assert [w for w, n in found] == wrong and {n for _, n in found} == {1}


def test_values_are_said_cleanly() -> None:
    assert clean_value("(~11,600 BP") == "11,600 BP"
    assert clean_value("400 m (1,300 ft).") == "400 m (1,300 ft)"
    assert clean_value("Emmerich Rhine Bridge,") == "Emmerich Rhine Bridge"


def test_refusal_plausible_and_missing_gold(script: Script) -> None:
    r = play(script, "len", "cannot")
    assert (r.text, r.played) == (REFUSAL, "cannot")
    r = play(script, "danube", "plausible")
    assert (r.text, r.played, r.value, r.marker) == ("1,230 km [2].", "plausible", "1,230 km", 2)
    r = play(script, "source", "plausible")  # not in the evidence: the line sharing most of its words
    assert r.played == "plausible" and r.marker == 3 and r.text == "North Sea coast [3]."
    r = play(script, "what", "gold")  # the evidence does not hold it: a strong model says so
    assert (r.text, r.played, r.note) == (REFUSAL, "cannot", "no evidence line holds a gold answer")


def test_reply_looks_the_question_up(script: Script) -> None:
    r = script.reply(chat("How  long is the RHINE?  (about: the Rhine)"))
    assert r.id == "len" and r.mode == mode_for("len", 1, True, False)
    assert script.reply(chat("Who built the bridge?")).played == "unscripted"
    assert script.reply([{"role": "user", "content": "hello"}]).played == "unparsed"


# ---- scoring --------------------------------------------------------------------------------------------
ANSWERED = {"refused": False, "contains_gold": True, "short_answer_words": 2, "cited_gold_span": True}


@pytest.mark.parametrize(
    ("info", "metrics", "answer", "answered", "key", "value"),
    [
        ({"played": "gold"}, ANSWERED, "1,230 km [1].", True, "standin_correct_kept", True),
        ({"played": "gold"}, ANSWERED | {"short_answer_words": 13}, "…", True, "standin_correct_kept", False),
        ({"played": "gold"}, ANSWERED | {"cited_gold_span": False}, "…", True, "standin_correct_kept", False),
        (
            {"played": "gold"},
            ANSWERED | {"cited_gold_span": None, "evidence_hit": True},  # a pair without spans
            "…",
            True,
            "standin_correct_kept",
            True,
        ),
        ({"mode": "gold", "played": None}, {"refused": True}, REFUSAL, False, "standin_correct_kept", False),
        ({"played": "wrong_marker"}, ANSWERED, "1,230 km [1].", True, "standin_marker_repaired", True),
        (
            {"played": "wrong_marker"},
            ANSWERED | {"cited_gold_span": False},
            "1,230 km [1].",
            True,
            "standin_marker_repaired",
            False,
        ),
        (
            {"played": "wrong_answer", "value": "1185 km"},
            {},
            "1185 km [1].",
            True,
            "standin_hallucination_passed",
            True,
        ),
        (
            {"played": "wrong_answer", "value": "1185 km"},
            {},
            "“The Rhine is 1,230 km long.” [1]",
            True,
            "standin_hallucination_passed",
            False,
        ),
        (
            {"played": "plausible", "value": "the North Sea"},
            {},
            "North Sea [2].",
            True,
            "standin_hallucination_passed",
            True,
        ),
        (
            {"played": "plausible", "value": "x"},
            {"refused": True},
            REFUSAL,
            False,
            "standin_hallucination_passed",
            False,
        ),
        ({"played": "cannot"}, {"refused": True}, REFUSAL, False, "standin_refusal_honoured", True),
        ({"played": "cannot"}, {"refused": False}, "Basel [1].", True, "standin_refusal_honoured", False),
    ],
)
def test_score_standin(
    info: dict[str, Any], metrics: dict[str, Any], answer: str, answered: bool, key: str, value: bool
) -> None:
    got = score_standin(info, metrics, answer, answered)
    assert got[key] is value
    assert [k for k, v in got.items() if v is not None and k != "standin_mode"] == [key]


def test_standin_summary() -> None:
    ms = [
        {"standin_mode": "gold", "standin_correct_kept": True},
        {"standin_mode": "gold", "standin_correct_kept": False},
        {"standin_mode": "cannot", "standin_refusal_honoured": True},
    ]
    s = standin_summary(ms)
    assert (s["standin_correct_kept"], s["standin_refusal_honoured"], s["standin_marker_repaired"]) == (
        0.5,
        1.0,
        None,
    )
    assert s["standin_modes"] == {"cannot": 1, "gold": 2}
    assert standin_summary([{"exact_match": True}]) == {}


# ---- the server -----------------------------------------------------------------------------------------
@pytest.fixture
def server(script: Script) -> Iterator[StandinServer]:
    with StandinServer(script) as srv:
        yield srv


def test_server_speaks_ollamas_protocol(server: StandinServer) -> None:
    client = ollama.Client(host=server.url, timeout=10)
    assert [m.model for m in client.list().models] == [f"{MODEL}:latest"]
    assert client.show(MODEL).modelinfo["standin.context_length"] > 4096
    parts = list(client.chat(model=MODEL, messages=chat("How long is the Rhine?"), stream=True))
    assert len(parts) > 2 and parts[-1].done and (parts[-1].prompt_eval_count or 0) > 0
    text = "".join(p.message.content or "" for p in parts)
    log = server.take_log()
    assert [e["id"] for e in log] == ["len"] and text == log[0]["text"]
    assert server.take_log() == []
    client.chat(model=MODEL, messages=chat("Which city lies on the Rhine?"))
    state = httpx.get(f"{server.url}/_control").json()["standin"]
    assert state["seed"] == 1 and [e["id"] for e in state["log"]] == ["city"]
    with pytest.raises(ollama.ResponseError, match="not found"):
        client.chat(model="llama3.2:3b", messages=chat("How long is the Rhine?"))


def test_without_the_tests_folder_the_standin_says_what_to_do(tmp_path: Path, script: Script) -> None:
    with pytest.raises(InputError, match="needs the project's tests/ folder"):
        standin_server(script, root=tmp_path)
    assert isinstance(standin_server(script), StandinServer)


# ---- through the pipeline -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rhine_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("standin-eval"), corpus_dir=RHINE / "corpus", llm="llamacpp"
    )


@pytest.fixture(scope="module")
def rhine_pairs() -> list[Pair]:
    return load_pairs(RHINE / "questions.json")


@pytest.fixture(scope="module")
def mixed(rhine_settings: Settings, rhine_pairs: list[Pair]) -> EvalResult:
    """12 questions of squad2-rhine through ours with the stand-in (default mix), and the no-model floor."""
    return evaluate(rhine_settings, sample(rhine_pairs, 12, seed=3), ["standin", "extractive"])


def test_every_answer_records_what_the_standin_planned_and_played(mixed: EvalResult) -> None:
    recs = [r for r in mixed.records if r["pipeline"] == "standin"]
    assert len(recs) == 12 and not any(r["error"] for r in recs)
    for r in recs:
        info, m = r["standin"], r["metrics"]
        assert info["mode"] == mode_for(r["id"], 1, r["answerable"], bool(r.get("plausible")))
        assert info["played"] in (None, "gold", "wrong_marker", "wrong_answer", "cannot", "plausible")
        assert m["standin_mode"] == (info["played"] or info["mode"])
        assert sum(m[k] is not None for k in m if k.startswith("standin_") and k != "standin_mode") == 1
    summary = mixed.summaries["standin"]
    assert sum(summary["standin_modes"].values()) == 12
    assert {"exact_match", "short_answer_f1", "cited_gold_span", "answer_words_p50"} <= set(summary)
    assert "standin_modes" not in mixed.summaries["extractive"]


@pytest.fixture(scope="module")
def terse(rhine_settings: Settings, rhine_pairs: list[Pair]) -> EvalResult:
    """Answerable questions the stand-in answers correctly and tersely (mix gold=1)."""
    pairs = [p for p in sample(rhine_pairs, 16, seed=5) if p.answerable]
    return evaluate(rhine_settings, pairs, ["standin"], options=EvalOptions(standin_mix=parse_mix("gold=1")))


def terse_gold(result: EvalResult) -> list[dict[str, Any]]:
    return [r for r in result.records if r["metrics"]["standin_mode"] == "gold" and r["standin"]["played"]]


def test_the_standin_gives_correct_terse_answers(terse: EvalResult) -> None:
    recs = terse_gold(terse)
    assert len(recs) >= 3
    assert all(len(r["standin"]["text"].split()) <= 8 and "[" in r["standin"]["text"] for r in recs)


def test_a_correct_terse_answer_is_kept(terse: EvalResult) -> None:
    dropped = [
        (r["standin"]["text"], r["answer"])
        for r in terse_gold(terse)
        if not r["metrics"]["standin_correct_kept"]
    ]
    assert not dropped, dropped


def test_qa_eval_runs_the_standin_and_the_floor_side_by_side(
    rhine_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`qa eval --set squad2-rhine --sample 6 --pipeline standin,extractive`: the real command."""
    monkeypatch.setenv(
        "QA_DATA_DIR", str(rhine_settings.index.data_dir)
    )  # the module's index: no re-embedding
    out = tmp_path / "out"
    argv = [
        "eval",
        "--set",
        "squad2-rhine",
        "--sample",
        "6",
        "--seed",
        "1",
        "--pipeline",
        "standin,extractive",
    ]
    assert cli.main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert [c.strip() for c in printed.splitlines()[0].split("|")[1:4]] == ["metric", "standin", "extractive"]
    for label in ("short-answer F1", "a citation covers a gold span", "stand-in: correct terse answer kept"):
        assert label in printed
    data = json.loads((out / "results.json").read_text("utf-8"))
    assert data["meta"]["pairs_total"] == 498 and data["meta"]["pairs"] == 6
    for name in ("standin", "extractive"):
        s = data["summaries"][name]
        for key in (
            "exact_match",
            "short_answer_f1",
            "contains_gold",
            "cited_gold_span",
            "fooled_by_plausible",
        ):
            assert s[key] is None or 0.0 <= s[key] <= 1.0, (name, key)
        assert s["answer_words_p50"] is not None
    assert all("short_answer" in r["metrics"] for r in data["records"])
