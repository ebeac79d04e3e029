"""`qa add FILE…`, `qa remove NAME…` and `qa documents`: the articles of the corpus folder, through the same
code as `POST /api/documents` and the chat's documents panel (qa/documents.py).

They work on the folder and data dir of the settings (QA_CORPUS_DIR, QA_DATA_DIR, or `--corpus`): a local
one, or the one a running `qa serve` answers from, which takes in the change at its next question (one
writer at a time: a command waits for a server's indexing to finish, and the other way round).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from index.errors import CorpusError, InputError
from qa.settings import Settings

if TYPE_CHECKING:
    from qa.documents import Documents, DocumentStatus

WAIT_S = 24 * 3600.0  # a command waits for its own indexing, however long the files take


def _documents(s: Settings) -> Documents:
    from qa.documents import Documents, LocalIndex

    return Documents(s, LocalIndex(s), resume=False)


def _line(d: DocumentStatus) -> str:
    if d.status == "ready":
        note = f" ({d.reason})" if d.reason else ""
        return f"{d.name}: ready, {d.sentences} sentence(s){note}"
    return f"{d.name}: {d.status}" + (f": {d.reason}" if d.reason else "")


def cmd_add(args: argparse.Namespace, settings: Callable[[argparse.Namespace], Settings]) -> int:
    """Save the files into the corpus folder and index them; exit 1 when any is not ready."""
    for f in args.files:  # every file is checked before any is added
        if not Path(f).is_file():
            raise CorpusError(f"Cannot read {f}: it is not a file. Check the path and try again.")
    docs = _documents(settings(args))
    results = []
    for f in args.files:
        path = Path(f)
        try:
            with open(path, "rb") as fh:
                results += docs.add([(path.name, fh)])
        except OSError as e:
            raise CorpusError(f"Cannot read {f} ({e.strerror}): check the path and try again.") from e
    queued = [r.name for r in results if r.status == "queued"]
    docs.wait(queued, WAIT_S)
    listed = {d.name: d for d in docs.list()}
    ok = True
    for r in results:
        d = listed.get(r.name)
        if r.status == "skipped" or d is None:
            print(f"{r.uploaded_as}: skipped: {r.reason or 'not kept'}", file=sys.stderr)
            ok = False
            continue
        verb = "replaced" if r.replaced else "added"
        print(f"{verb} {_line(d)}", file=sys.stdout if d.status == "ready" else sys.stderr)
        ok = ok and d.status == "ready" and not d.reason
    return 0 if ok else 1


def cmd_remove(args: argparse.Namespace, settings: Callable[[argparse.Namespace], Settings]) -> int:
    """Delete the articles from the folder and the index."""
    s = settings(args)
    docs = _documents(s)
    for name in args.names:
        if not docs.remove(name):
            raise InputError(
                f"No article is named {name!r} in {s.index.corpus_dir}: `qa documents` lists them."
            )
    docs.wait(args.names, WAIT_S)
    for name in args.names:
        print(f"removed {name}")
    return 0


def cmd_documents(args: argparse.Namespace, settings: Callable[[argparse.Namespace], Settings]) -> int:
    """List the articles of the corpus folder with their status."""
    docs = _documents(settings(args))
    for d in docs.list():
        print(_line(d))
    return 0


def add_parsers(sub: argparse._SubParsersAction, settings: Callable[[argparse.Namespace], Settings]) -> None:
    """The three subcommands, each run with the settings `settings(args)` builds."""
    pa = sub.add_parser("add", help="add articles to the corpus folder and index them")
    pa.add_argument("files", nargs="+", metavar="FILE")
    pa.add_argument("--corpus", help="the corpus folder (default: QA_CORPUS_DIR or seeds/)")
    pa.set_defaults(func=lambda a: cmd_add(a, settings))
    pr = sub.add_parser("remove", help="remove articles from the corpus folder and the index")
    pr.add_argument("names", nargs="+", metavar="NAME")
    pr.add_argument("--corpus", help="the corpus folder (default: QA_CORPUS_DIR or seeds/)")
    pr.set_defaults(func=lambda a: cmd_remove(a, settings))
    pl = sub.add_parser("documents", help="list the articles of the corpus folder and their status")
    pl.add_argument("--corpus", help="the corpus folder (default: QA_CORPUS_DIR or seeds/)")
    pl.set_defaults(func=lambda a: cmd_documents(a, settings))
