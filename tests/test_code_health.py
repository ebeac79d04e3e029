"""Plain checks that keep the code easy to carry on (issues 14 and 24): no dead code as vulture sees it, no
module growing past ~400 lines (300 in the answer core), no function over six positional parameters, no
setting read through a default argument, no import cycle in qa/, and one marker grammar and one
control-character class."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from qa.cite import MARKER
from qa.inputs import CONTROL, clean_question
from qa.service import clean_history

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("index", "qa", "ui")
VULTURE_CONFIDENCE = 60  # 60 reports unused functions, classes, methods, attributes and variables
WHITELIST = "tests/vulture_whitelist.py"  # framework entry points only, each with why
# Dead code vulture finds in files that other work holds right now (the store split, index/*.py,
# qa/retrieve.py, qa/pipeline.py): each is for that file's owner to delete, then to drop from here. Keyed by
# vulture's message, not the line or file, so a split that moves one does not break this. The list only
# shrinks: the test fails on a finding not listed and on a listed one that is gone.
PENDING_DEAD: set[str] = set()
MAX_LINES = 400
# Modules over MAX_LINES on 2026-12-02, each capped at its size that day so it cannot grow; split one
# (or shrink it under MAX_LINES) and drop it from here.
KNOWN_OVER: dict[str, int] = {}


def test_vulture_finds_no_dead_code() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "vulture", *PRODUCT, WHITELIST, "--min-confidence", str(VULTURE_CONFIDENCE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode in (0, 3), run.stderr  # 3: vulture found dead code
    # "qa/api/app.py:149: unused function 'x' (60% confidence)" -> "unused function 'x'"
    found = {
        line: re.sub(r"^[^:]+:\d+: | \(\d+% confidence\)$", "", line) for line in run.stdout.splitlines()
    }
    new = [line for line, message in found.items() if message not in PENDING_DEAD]
    assert not new, f"dead code: delete it (a framework entry point goes in {WHITELIST}):\n" + "\n".join(new)
    gone = PENDING_DEAD - set(found.values())
    assert not gone, f"no longer found, drop from PENDING_DEAD: {sorted(gone)}"


def _modules() -> dict[str, int]:
    return {
        p.relative_to(ROOT).as_posix(): len(p.read_text("utf-8").splitlines())
        for top in PRODUCT
        for p in sorted((ROOT / top).rglob("*.py"))
    }


def test_no_module_grows_past_the_limit() -> None:
    sizes = _modules()
    over = {m: n for m, n in sizes.items() if n > KNOWN_OVER.get(m, MAX_LINES)}
    assert not over, f"over {MAX_LINES} lines (or past its KNOWN_OVER ceiling): split it: {over}"
    stale = {m: sizes.get(m) for m in KNOWN_OVER if sizes.get(m, 0) <= MAX_LINES}
    assert not stale, f"split or gone, drop from KNOWN_OVER: {stale}"


# The answer core (issue 24): the modules of its stages and answer kinds stay small enough to read whole.
ANSWER_CORE = (
    *("qa/evidence.py", "qa/question.py", "qa/spans.py", "qa/propose.py", "qa/candidates.py", "qa/seams.py"),
    *("qa/verify.py", "qa/score.py", "qa/weights.py", "qa/decide.py", "qa/conflicts.py", "qa/rivals.py"),
    *("qa/values.py", "qa/quantities.py", "qa/dates.py", "qa/compose.py", "qa/pipeline.py"),
)
MAX_CORE_LINES = 300
MAX_POSITIONAL = 6


def test_the_answer_core_modules_stay_small() -> None:
    sizes = _modules()
    core = [m for m in sizes if m in ANSWER_CORE or m.startswith("qa/kinds/")]
    assert len(core) >= len(ANSWER_CORE)
    over = {m: sizes[m] for m in core if sizes[m] > MAX_CORE_LINES}
    assert not over, f"an answer-core module over {MAX_CORE_LINES} lines: split it: {over}"


def _functions() -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    out = []
    for name, text in _product_sources().items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                out.append((name, node))
    return out


def test_no_function_takes_more_than_six_positional_parameters() -> None:
    wide = []
    for name, fn in _functions():
        positional = [a.arg for a in fn.args.posonlyargs + fn.args.args if a.arg not in ("self", "cls")]
        if len(positional) > MAX_POSITIONAL:
            wide.append(f"{name}:{fn.lineno} {fn.name}({len(positional)})")
    assert not wide, f"more than {MAX_POSITIONAL} positional parameters (pass a typed record): {wide}"


def test_no_setting_is_read_through_a_default_argument() -> None:
    """A setting comes from the one Settings object passed in, never from a default computed at import."""
    read = []
    for name, fn in _functions():
        for default in [*fn.args.defaults, *(d for d in fn.args.kw_defaults if d is not None)]:
            if re.search(r"Settings\b|field_default|settings\.", ast.unparse(default)):
                read.append(f"{name}:{fn.lineno} {fn.name}: {ast.unparse(default)}")
    assert not read, read


def test_qa_has_no_import_cycle() -> None:
    """Imports between qa's modules, inside functions too, form no cycle (imports for type checking only
    are not counted: they never run)."""
    sources = {n: t for n, t in _product_sources().items() if n.startswith("qa/")}

    def module(path: str) -> str:
        return path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")

    names = {module(p) for p in sources}
    graph: dict[str, set[str]] = {}
    for path, text in sources.items():
        deps: set[str] = set()
        tree = ast.parse(text)
        typing_only = {
            id(n)
            for block in tree.body
            if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
            for n in ast.walk(block)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.ImportFrom) and node.module:
                # `from qa import kinds` imports the module qa.kinds; `from qa.x import y` imports qa.x
                subs = [f"{node.module}.{a.name}" for a in node.names]
                targets = [t if t in names else node.module for t in subs]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            deps |= {t for t in targets if t in names}
        graph[module(path)] = deps - {module(path)}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for dep in graph.get(node, set()):
            if state.get(dep) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*trail[trail.index(dep) :], dep]))
            if dep not in state:
                visit(dep, [*trail, dep])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])


def _product_sources() -> dict[str, str]:
    return {
        p.relative_to(ROOT).as_posix(): p.read_text("utf-8")
        for top in PRODUCT
        for p in sorted((ROOT / top).rglob("*.py"))
    }


def test_the_marker_grammar_is_written_once() -> None:
    sources = _product_sources()
    literal = f'r"{MARKER.pattern}"'
    assert [m for m, s in sources.items() for _ in range(s.count(literal))] == ["qa/cite.py"]
    # No other module writes its own marker pattern ("\[(\d", "\[\s*(\d", "\[\d"); the stand-in model's
    # parser of the prompt's evidence lines ("[3] text", prompts.EVIDENCE_LINE) is not a marker.
    lookalike = re.compile(r"\\\[(?:\\s\*)?\(?\\d")
    found = sorted({m for m, s in sources.items() for line in s.splitlines() if lookalike.search(line)})
    assert found == ["qa/cite.py", "qa/eval/standin.py"]


def test_the_control_class_is_written_once() -> None:
    sources = _product_sources()
    assert [m for m, s in sources.items() if CONTROL.pattern in s] == ["qa/inputs.py"]
    assert sum(s.count(r"\x00-\x08") for s in sources.values()) == 1


def test_a_sentence_becomes_a_citation_in_one_place() -> None:
    """`Citation.of` is the one citation builder: nobody else copies a sentence's fields into a Citation
    (the LlamaIndex baseline cites chunks, not sentences, and builds its own from the chunk's text)."""
    sources = _product_sources()
    builds = re.compile(r"quote=\w+\.text\b")
    assert [m for m, s in sources.items() for _ in builds.finditer(s)] == ["qa/types.py"]


def test_footnotes_are_formatted_in_one_place() -> None:
    sources = _product_sources()
    assert [m for m, s in sources.items() if ", sentence {c.sentence}" in s] == ["qa/present.py"]


def test_each_fake_model_is_defined_once() -> None:
    """The tests' fake models live in tests/conftest.py (RecordingLLM) and tests/live_server.py
    (ScriptedLLM, which a browser test subclasses); no test file writes its own."""
    fakes = re.compile(r"^class (\w*LLM)\b", re.M)
    found = sorted(
        (m.group(1), p.name)
        for p in (ROOT / "tests").glob("*.py")
        for m in fakes.finditer(p.read_text("utf-8"))
    )
    assert found == [
        ("HeldLLM", "test_ui_refine.py"),
        ("RecordingLLM", "conftest.py"),
        ("ScriptedLLM", "live_server.py"),
    ]


@pytest.mark.parametrize(
    ("raw", "question", "turn"),
    [
        ("a\x00b\x07c", "a b c", "a b c"),
        ("line\r\nbreak\ttab", "line break tab", "line\r\nbreak\ttab"),  # a turn keeps its line breaks
        ("x\x0b\x0c\x1by\x7f\x9bz", "x y z", "x   y  z"),
        ("lone \ud800 surrogate", "lone surrogate", "lone   surrogate"),
        ("Kunduz\u00a0city", "Kunduz city", "Kunduz\u00a0city"),  # no-break space is not a control
    ],
)
def test_one_control_class_keeps_each_callers_behaviour(raw: str, question: str, turn: str) -> None:
    from qa.settings import Settings

    assert clean_question(raw, Settings()) == question
    assert clean_history([{"role": "assistant", "content": raw}], 10)[0]["content"] == turn
