"""HTML (.html, .htm): trafilatura's main text, title and date, without the page's chrome."""

from __future__ import annotations

import functools
import logging
from typing import Any

from index.extract.formats import Extracted, ExtractError, stamp
from index.extract.text import clean_block, join_blocks

# Share of decoded characters that may be control or replacement characters before "binary".
_MAX_JUNK = 0.02


def _junk_share(text: str) -> float:
    sample = text[:65536]
    if not sample:
        return 0.0
    bad = sum(1 for c in sample if c == "\ufffd" or (ord(c) < 32 and c not in "\t\n\r\f"))
    return bad / len(sample)


@functools.cache
def _trafilatura_config() -> Any:
    from trafilatura.settings import use_config

    config = use_config()
    # A short article is still the article: by default a main text under 250 characters is replaced by a
    # fallback extraction of the whole page, chrome and all.
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "1")
    return config


def read_html(raw: bytes) -> Extracted:
    """A saved web page: trafilatura's main text, title and date. The text of scripts, styles and
    attributes (event handlers) never reaches it; neither do navigation, share bars or related links."""
    if b"\x00" in raw[:8192]:
        raise ExtractError("binary data, not an HTML page")
    import trafilatura

    for name in ("trafilatura", "htmldate", "courlan", "justext", "charset_normalizer"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    head = raw[:4096].decode("utf-8", "replace")
    if _junk_share(raw[:65536].decode("utf-8", "replace")) > _MAX_JUNK and "<" not in head:
        raise ExtractError("binary data, not an HTML page")
    try:
        doc = trafilatura.bare_extraction(
            raw,
            config=_trafilatura_config(),
            favor_precision=True,  # of two readings of a paragraph's role, the one that drops chrome
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            include_formatting=False,
            deduplicate=False,
        )
    except MemoryError:
        raise
    except Exception as e:  # a library failure on one page is that page's problem, not the run's
        raise ExtractError(f"not a readable HTML page ({type(e).__name__}: {str(e)[:120]})") from e
    body = getattr(doc, "text", None) or ""
    if _junk_share(body) > _MAX_JUNK:
        raise ExtractError("binary data, not an HTML page")
    blocks = [clean_block(line) for line in body.split("\n")]
    blocks = [b for b in blocks if b]
    if not blocks:
        raise ExtractError("no article text found (only markup, scripts or navigation)")
    title = clean_block(getattr(doc, "title", None) or "")
    if title and blocks[0] != title:
        blocks.insert(0, title)  # the headline is part of what a reader reads, and may hold the fact
    date = str(getattr(doc, "date", None) or "")[:10]
    return Extracted(text=join_blocks(blocks), format="html", title=title, date=date, stamp=stamp("html"))
