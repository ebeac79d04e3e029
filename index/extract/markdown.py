"""Markdown (.md, .markdown): the words of markdown-it-py's token stream, title and date from YAML front
matter."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from index.extract.formats import Extracted, ExtractError, stamp
from index.extract.text import clean_block, decode_text, join_blocks

_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)


def _front_matter(text: str) -> tuple[dict[str, Any], str]:
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text
    import yaml

    try:
        meta = yaml.safe_load(m.group(1))
    except yaml.YAMLError:
        return {}, text
    return (meta if isinstance(meta, dict) else {}), text[m.end() :]


def read_markdown(raw: bytes) -> Extracted:
    """Markdown as plain text: each heading, paragraph, list item, table row and code line one line, the
    markup gone (emphasis, links and images keep only their words; embedded HTML is dropped)."""
    from markdown_it import MarkdownIt

    source = decode_text(raw, "Markdown")
    meta, body = _front_matter(source)
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    blocks: list[str] = []
    heading = ""
    in_heading = in_cell = False
    row: list[str] = []
    for tok in md.parse(body):
        if tok.type == "heading_open":
            in_heading = True
        elif tok.type == "heading_close":
            in_heading = False
        elif tok.type in ("th_open", "td_open"):
            in_cell = True
        elif tok.type in ("th_close", "td_close"):
            in_cell = False
        elif tok.type == "tr_close":
            blocks.append(" | ".join(c for c in row if c))
            row = []
        elif tok.type == "inline":
            words = clean_block(_inline_text(tok.children or []))
            if in_cell:
                row.append(words)
                continue
            if in_heading and not heading:
                heading = words
            blocks.append(words)
        elif tok.type in ("fence", "code_block"):
            blocks.extend(clean_block(line) for line in tok.content.splitlines())
        # html_block, hr, list and quote markers: markup, nothing to read
    text = join_blocks([clean_block(b) for b in blocks])
    if not text.strip():
        raise ExtractError("no text once the Markdown markup is removed")
    title = str(meta.get("title") or heading or "")
    date = meta.get("date")
    return Extracted(
        text=text,
        format="md",
        title=clean_block(title),
        date=str(date)[:10] if date else "",
        stamp=stamp("md"),
    )


def _inline_text(children: Sequence[Any]) -> str:
    out: list[str] = []
    for c in children:
        if c.type in ("text", "code_inline"):
            out.append(c.content)
        elif c.type in ("softbreak", "hardbreak"):
            out.append(" ")
        # image (its alt text describes a picture, it is not the article's text), html_inline,
        # link_open/close, em/strong/s open/close: markup, nothing to read
    return "".join(out)
