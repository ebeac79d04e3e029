"""Conflict metrics, pure: does an answer show every version of a fact the sources disagree on, and does it
claim a disagreement where the sources agree?

A question's versions come from its set (`versions` in a SQuAD-style questions.json: each with its
`answers`, every surface form, and the `files` that carry it; see qa/eval/sets/news-conflict/README.md).
A record's conflicts are `Answer.conflicts` as results.json stores them (`value`, `citations` as 1-based
indices into the record's citations, `files`).

- **conflict_surfaced**, over questions with two or more versions: every version is shown, i.e. some
  conflict of the answer has a value that contains one of the version's answers (as `contains_gold`
  compares) and cites, among its citations, a sentence of a file that carries that version. A refusal or
  an answer without conflicts surfaces nothing.
- **false_conflict**, over every other question (one version, or none, such as the shipped pairs and
  unanswerable questions), except shipped pairs tagged `disagreement`: the answer reports a conflict (two
  or more versions).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from qa.eval import short
from qa.eval.pairs import Pair, PairVersion


def _shows(version: PairVersion, conflicts: Sequence[Mapping[str, Any]], citations: Sequence[Any]) -> bool:
    for c in conflicts:
        value = str(c.get("value") or "")
        if not any(short.contains_phrase(value, a) for a in version.answers):
            continue
        for k in c.get("citations") or []:
            if isinstance(k, int) and 1 <= k <= len(citations):
                cited = citations[k - 1]
                if isinstance(cited, Mapping) and cited.get("file") in version.files:
                    return True
    return False


def conflict_metrics(pair: Pair, record: Mapping[str, Any]) -> dict[str, bool | None]:
    """`conflict_surfaced` and `false_conflict` of one record (None where a metric does not apply)."""
    answered = not record.get("refused") and not record.get("error")
    conflicts = list(record.get("conflicts") or []) if answered else []
    citations = list(record.get("citations") or [])
    if "disagreement" in pair.tags and not pair.versions:  # a shipped pair that says its sources disagree
        return {"conflict_surfaced": None, "false_conflict": None}
    if len(pair.versions) >= 2:
        surfaced = all(_shows(v, conflicts, citations) for v in pair.versions)
        return {"conflict_surfaced": surfaced, "false_conflict": None}
    return {"conflict_surfaced": None, "false_conflict": len(conflicts) >= 2}
