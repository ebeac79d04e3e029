"""Plain text: the UTF-8 check every text format shares, the block clean-up every reader shares, and the
.txt reader."""

from __future__ import annotations

import re
from collections.abc import Sequence

from index.extract.formats import Extracted, ExtractError, stamp

BLOCK_SEP = "\n\n"  # between two blocks (paragraphs, headings, table rows) of a file's text
WHITESPACE = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000]+")


def decode_text(raw: bytes, what: str) -> str:
    """`raw` as UTF-8; ExtractError when it holds NUL bytes (binary) or is not UTF-8. `what` names the
    format in the reason."""
    if b"\x00" in raw[:8192]:
        raise ExtractError("binary (contains NUL bytes)" if what == "txt" else f"binary, not {what}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ExtractError(f"not UTF-8 (bad byte at offset {e.start}); re-save it as UTF-8") from e


def clean_block(text: str) -> str:
    """One block as one line: inner whitespace runs (line breaks included) become one space."""
    return WHITESPACE.sub(" ", " ".join(text.split("\n"))).strip()


def join_blocks(blocks: Sequence[str]) -> str:
    """The non-empty blocks, separated by a blank line."""
    return BLOCK_SEP.join(b for b in blocks if b)


def read_txt(raw: bytes) -> Extracted:
    """A UTF-8 text file, exactly as it is."""
    text = decode_text(raw, "txt")
    if not text.strip():
        raise ExtractError("empty")
    return Extracted(text=text, format="txt", stamp=stamp("txt"))
