"""Build a set's questions.json from its hand-written questions.src.yaml: spans are found, never typed.

    python qa/eval/sets/build_spans.py news-multisource [news-conflict ...]   # write questions.json
    python qa/eval/sets/build_spans.py --check news-agree                     # compare, write nothing
    python qa/eval/sets/build_spans.py --show news-conflict                   # print each span in context

The source file lists, per question, the question text and the answer strings (or, for an unanswerable
question, the plausible wrong answer; for a conflict question, one entry per version). This script finds
every verbatim occurrence of those strings in the corpus, on word boundaries, and records `[start, end)`
offsets, so that `file_text[start:end] == answer` by construction.

Optional keys that narrow where an occurrence counts (all verbatim strings):
- `near`: an occurrence counts only inside one of these longer strings (its evidence in context);
- `exclude`: an occurrence inside one of these strings never counts (e.g. a newspaper's name);
- `only`: file names to search (default: every corpus file);
- `expect_files`: the files the answer must be found in; the build fails when the files found differ.

A version of a conflict question takes `value`, `answers` (default `[value]`), and the same keys.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

SETS = Path(__file__).resolve().parent

Spans = dict[str, list[list[int]]]


class SpecError(ValueError):
    pass


def _boundary_ok(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() and text[start].isalnum()) and not (
        after.isalnum() and text[end - 1].isalnum()
    )


def _occurrences(text: str, needle: str) -> list[tuple[int, int]]:
    out, i = [], text.find(needle)
    while i >= 0:
        if _boundary_ok(text, i, i + len(needle)):
            out.append((i, i + len(needle)))
        i = text.find(needle, i + 1)
    return out


def _windows(text: str, contexts: list[str]) -> list[tuple[int, int]]:
    return [w for c in contexts for w in _occurrences(text, c)]


def find_spans(corpus: dict[str, str], strings: list[str], entry: dict[str, Any], what: str) -> Spans:
    """Every occurrence of every string, per file, filtered by the entry's near/exclude/only keys."""
    near, exclude = entry.get("near") or [], entry.get("exclude") or []
    only = entry.get("only")
    unused_near = set(near)
    found: Spans = {}
    for name, text in corpus.items():
        if only and name not in only:
            continue
        near_w, excl_w = _windows(text, near), _windows(text, exclude)
        unused_near -= {c for c in near if _occurrences(text, c)}
        spans = set()
        for s in strings:
            for a, b in _occurrences(text, s):
                if near and not any(x <= a and b <= y for x, y in near_w):
                    continue
                if any(x <= a and b <= y for x, y in excl_w):
                    continue
                spans.add((a, b))
        if spans:
            found[name] = [[a, b] for a, b in sorted(spans)]
    if unused_near:
        raise SpecError(f"{what}: 'near' strings found in no file: {sorted(unused_near)}")
    if not found:
        raise SpecError(f"{what}: none of {strings} occurs in the corpus")
    expect = entry.get("expect_files")
    if expect is not None and sorted(expect) != sorted(found):
        raise SpecError(f"{what}: expected files {sorted(expect)}, found {sorted(found)}")
    return found


def _first(spans: Spans) -> str:
    return sorted(spans)[0]


def build_question(corpus: dict[str, str], src: dict[str, Any]) -> dict[str, Any]:
    qid = src["id"]
    out: dict[str, Any] = {"id": qid}
    if src.get("unanswerable"):
        plaus = list(src["plausible"])
        where = find_spans(corpus, plaus, src, f"{qid} plausible")
        first = _first(where)
        out.update(file=first, q=src["q"], unanswerable=True, answers=[], spans=[])
        out.update(plausible=plaus, plausible_spans=where[first])
        if len(where) > 1:
            out.update(plausible_files=sorted(where), plausible_all_spans=where)
    elif "versions" in src:
        versions = []
        for k, v in enumerate(src["versions"]):
            answers = list(v.get("answers") or [v["value"]])
            where = find_spans(corpus, answers, v, f"{qid} version {k} ({v['value']!r})")
            versions.append(
                {"value": v["value"], "answers": answers, "files": sorted(where), "spans_by_file": where}
            )
        overlap = [
            f
            for i, a in enumerate(versions)
            for b in versions[i + 1 :]
            for f in a["files"]
            if f in b["files"]
        ]
        if overlap:
            raise SpecError(f"{qid}: files carry two versions: {sorted(set(overlap))}")
        if len(versions) > 1 and [len(v["files"]) for v in versions] != sorted(
            (len(v["files"]) for v in versions), reverse=True
        ):
            raise SpecError(f"{qid}: versions must be ordered by the number of files that carry them")
        every: Spans = {}
        for v in versions:
            every.update(v["spans_by_file"])
        answers = [a for v in versions for a in v["answers"]]
        first = versions[0]["files"][0]
        out.update(file=first, q=src["q"], unanswerable=False, answers=answers, spans=every[first])
        out.update(files=sorted(every), all_spans={f: every[f] for f in sorted(every)})
        out.update(kind=src["kind"], conflict=len(versions) > 1, versions=versions)
    else:
        answers = list(src["answers"])
        where = find_spans(corpus, answers, src, f"{qid} answers")
        first = _first(where)
        out.update(file=first, q=src["q"], unanswerable=False, answers=answers, spans=where[first])
        if len(where) > 1:
            out.update(files=sorted(where), all_spans=where)
    for key in ("kind",):
        if key in src and key not in out:
            out[key] = src[key]
    return out


def load_corpus(set_dir: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((set_dir / "corpus").glob("*.txt"))}


def build(set_dir: Path) -> list[dict[str, Any]]:
    corpus = load_corpus(set_dir)
    spec = yaml.safe_load((set_dir / "questions.src.yaml").read_text(encoding="utf-8"))
    questions = [build_question(corpus, q) for q in spec["questions"]]
    ids = [q["id"] for q in questions]
    if len(ids) != len(set(ids)):
        raise SpecError(f"{set_dir.name}: duplicate ids")
    return questions


def render(questions: list[dict[str, Any]]) -> str:
    return json.dumps(questions, ensure_ascii=False, indent=1) + "\n"


def show(set_dir: Path, questions: list[dict[str, Any]]) -> None:
    corpus = load_corpus(set_dir)
    for q in questions:
        print(f"\n== {q['id']}  {q['q']}")
        groups = q.get("versions") or [
            {"value": "ANSWER", "spans_by_file": q.get("all_spans") or {q["file"]: q["spans"]}}
        ]
        if q["unanswerable"]:
            groups = [
                {
                    "value": "PLAUSIBLE",
                    "spans_by_file": q.get("plausible_all_spans") or {q["file"]: q["plausible_spans"]},
                }
            ]
        for g in groups:
            for f, spans in g["spans_by_file"].items():
                for a, b in spans:
                    t = corpus[f]
                    ctx = t[max(0, a - 50) : a] + "[[" + t[a:b] + "]]" + t[b : b + 40]
                    print(f"  {g['value'][:14]:14} {f:24} {ctx!r}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="+")
    ap.add_argument(
        "--check", action="store_true", help="fail if questions.json is not what the source builds"
    )
    ap.add_argument("--show", action="store_true", help="print every span in context")
    args = ap.parse_args(argv)
    rc = 0
    for name in args.sets:
        set_dir = SETS / name
        questions = build(set_dir)
        target = set_dir / "questions.json"
        if args.show:
            show(set_dir, questions)
        if args.check:
            if not target.exists() or target.read_text(encoding="utf-8") != render(questions):
                print(f"{name}: questions.json is stale; rebuild it", file=sys.stderr)
                rc = 1
        elif not args.show:
            target.write_text(render(questions), encoding="utf-8")
            n_un = sum(q["unanswerable"] for q in questions)
            n_conf = sum(bool(q.get("conflict")) for q in questions)
            print(
                f"{name}: {len(questions)} questions, {len(questions) - n_un} answerable, "
                f"{n_un} unanswerable, {n_conf} conflicts"
            )
    return rc


if __name__ == "__main__":
    sys.exit(main())
