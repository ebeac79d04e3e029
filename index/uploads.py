"""Files put into the corpus folder from outside (`POST /api/documents`, the chat's documents panel,
`qa add`): a safe name, a bounded copy, and an install that a reader of the folder never sees half done.

A name a client sends is only ever a hint: its last path component is kept (either separator), control and
format characters (NUL included) are dropped, leading dots and spaces too (a hidden file is not an
article), characters other systems refuse become `_`, and it is cut to `MAX_NAME_BYTES`. The result
names a file directly inside the corpus folder and nothing else, whatever was sent.

A file is copied to a hidden staging file in the corpus folder first (same file system: the install is
one `os.replace`), so `qa index` and the indexing worker read either the old file or the new one. When a
file replaces an article, the old file is kept beside it (hidden) until the new one is indexed, so it can
be put back when the new one cannot be read.
"""

from __future__ import annotations

import os
import shutil
import unicodedata
import uuid
from pathlib import Path
from typing import BinaryIO

from index.extract import FORMATS, UNSUPPORTED, format_of

MAX_NAME_BYTES = 200  # well under the 255 bytes of a file name, leaving room for the hidden prefixes
_CHUNK = 1 << 20
_STAGING = ".qa-upload-"
_BACKUP = ".qa-replaced-"
_REFUSED = set('<>:"|?*')  # legal on Linux, refused by Windows and awkward in URLs and shells


def clean_name(raw: str) -> str:
    """A file name for `raw` that stays inside the folder: `../../x.txt` → `x.txt`, `C:\\a\\b.md` →
    `b.md`, `a\\x00b.txt` → `ab.txt`, `.env` → `env`; "upload" when nothing is left of the stem."""
    name = unicodedata.normalize("NFC", raw.replace("\\", "/")).rsplit("/", 1)[-1]
    name = "".join("_" if ch in _REFUSED else ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = " ".join(name.split()).strip(". ")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    suffix = suffix[:16]
    while len(stem.encode("utf-8")) + len(suffix) + 1 > MAX_NAME_BYTES:
        stem = stem[:-1]
    stem = stem.rstrip(". ") or "upload"
    return f"{stem}.{suffix}" if suffix else stem


def unsupported(name: str) -> str | None:
    """Why a file of this name is not read as an article, or None when its format is read."""
    if format_of(Path(name)) is not None:
        return None
    suffix = Path(name).suffix.lower()
    if suffix in UNSUPPORTED:
        return UNSUPPORTED[suffix]
    kinds = ", ".join(sorted(FORMATS))
    shown = f"a {suffix} file" if suffix else "a file without a suffix"
    return f"{shown} is not an article format that is read: save it as one of {kinds}"


def stage(folder: Path, source: BinaryIO, limit_bytes: int) -> tuple[Path, int] | None:
    """Copy `source` to a hidden staging file in `folder`: (its path, its size), or None (nothing kept)
    when it is longer than `limit_bytes`. Reads at most `limit_bytes` + 1 bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_STAGING}{os.getpid()}-{uuid.uuid4().hex}"
    size = 0
    with open(path, "xb") as out:
        while chunk := source.read(min(_CHUNK, limit_bytes + 1 - size)):
            size += len(chunk)
            if size > limit_bytes:
                out.close()
                path.unlink()
                return None
            out.write(chunk)
    return path, size


def discard(staged: Path) -> None:
    """Delete a staging file that will not be installed."""
    staged.unlink(missing_ok=True)


def backup_of(folder: Path, name: str) -> Path:
    """Where the replaced version of article `name` is kept until the new one is indexed."""
    return folder / f"{_BACKUP}{name}"


def install(folder: Path, staged: Path, name: str) -> bool:
    """Move a staged file to `folder/name` in one step; True when it replaced a file, whose old version is
    kept (`backup_of`) unless one is kept already (the version that is indexed)."""
    target = folder / name
    replaced = target.is_file()
    backup = backup_of(folder, name)
    if replaced and not backup.exists():
        try:
            os.link(target, backup)
        except OSError:
            shutil.copy2(target, backup)
    os.replace(staged, target)
    return replaced


def settle(folder: Path, name: str, taken: bool) -> None:
    """After indexing `name`: when the index `taken` it, drop the old version; else put the old version
    back (or, for a new name, remove the file), so the folder is as it was."""
    target, backup = folder / name, backup_of(folder, name)
    if taken:
        backup.unlink(missing_ok=True)
    elif backup.exists():
        os.replace(backup, target)
    else:
        target.unlink(missing_ok=True)


def remove(folder: Path, name: str) -> bool:
    """Delete article file `name` (and any kept old version); True when there was one. `name` must be a
    name `clean_name` leaves as it is."""
    if clean_name(name) != name:
        return False
    backup_of(folder, name).unlink(missing_ok=True)
    try:
        (folder / name).unlink()
    except OSError:  # none, or not a plain file
        return False
    return True


def leftovers(folder: Path) -> None:
    """Delete the staging files of processes that are gone (never installed, so never in the corpus)."""
    if not folder.is_dir():
        return
    for p in folder.glob(f"{_STAGING}*"):
        pid = p.name[len(_STAGING) :].split("-", 1)[0]
        try:
            os.kill(int(pid), 0)
        except (ValueError, ProcessLookupError):
            p.unlink(missing_ok=True)
        except PermissionError:
            pass  # another user's live process
