"""Figures read from text: a quantity or a count parsed by quantulum3 and converted to base units by pint,
as the interval its written digits and its qualifier allow ("about 50", "more than 150", "1.2 miles").
Used by qa/values.py, which turns them into values. Pure given the libraries."""

from __future__ import annotations

import functools
import math
import re
import warnings
from typing import Any

from qa.lexical import fold

QUALIFIER = re.compile(
    r"\b(about|around|some|roughly|approximately|approx|nearly|almost|close to|an estimated|estimated|"
    r"circa|ca|c\.|up to|more than|over|above|at least|upwards of|in excess of|less than|fewer than|under|"
    r"below|at most|no more than)\b",
    re.IGNORECASE,
)
_AT_LEAST = frozenset({"more than", "over", "above", "at least", "upwards of", "in excess of"})
_AT_MOST = frozenset({"up to", "less than", "fewer than", "under", "below", "at most", "no more than"})
_BELOW = frozenset({"nearly", "almost"})
_DIGITS = re.compile(r"\d[\d,]*(?:\.\d+)?")
# A count of no stated size ("thousands", "several hundred", "dozens of"): no figure to compare.
_VAGUE = re.compile(
    r"^\W*(?:(?:tens|hundreds) of\s+)?(?:dozens|scores|hundreds|thousands|millions|billions)\b"
    r"|^\W*(?:several|many|a few|few)\s+(?:dozen|hundred|thousand|million|billion)s?\b",
    re.IGNORECASE,
)


@functools.cache
def _units() -> Any:
    import pint

    return pint.UnitRegistry()


@functools.cache
def _quantulum() -> Any:
    with warnings.catch_warnings():  # it warns that its optional classifier is not installed; not needed
        warnings.simplefilter("ignore")
        from quantulum3 import parser

    return parser


def quantity(text: str, rounding: float, approximate: float) -> tuple[str, float, float] | None:
    """A quantity or a count: its dimensionality and its interval in base units, `(unit, lo, hi)`. The
    first quantity the text states (a conversion in brackets after it is a separate candidate).
    `rounding`, `approximate`: the answer settings' `value_rounding` and `value_approximate`."""
    from text_to_num import alpha2digit

    if not re.search(r"(?<![A-Za-z])\d|[a-z]", text) or re.fullmatch(r"[A-Za-z]+\d+\w*", text.strip()):
        return None  # a code such as a road's number is a name, not a figure
    if _VAGUE.search(text):
        return None
    parser = _quantulum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = parser.parse(text) or parser.parse(alpha2digit(text, "en"))
    if not found:
        return None
    q = found[0]
    unit, factor = _base(q)
    if unit is None:
        return None
    value = float(q.value)
    lo, hi = _interval(value, q.surface, text, (rounding, approximate))
    return unit, lo * factor, hi * factor


def _base(q: Any) -> tuple[str | None, float]:
    """The dimensionality and factor to base units of a quantulum quantity (through pint); a count is
    ("", 1); a unit pint does not know (a currency) keeps quantulum's name."""
    name = str(q.unit.name)
    entity = str(q.unit.entity.name)
    if name == "dimensionless":
        return "", 1.0
    if entity == "currency":
        return f"currency:{name}", 1.0
    if "cent" in name and "cent" in fold(q.surface):
        return "percent", 1.0
    ureg = _units()
    # quantulum's own unit name first; its surface word where pint does not know the name ("minute of
    # arc" for "minutes" is quantulum guessing without its classifier: pint reads the word as time).
    tail = re.findall(r"[^\W\d_]+", q.surface)
    for candidate in ([tail[-1]] if tail and entity == "time" else []) + [name] + tail[-1:]:
        try:
            base = ureg.Quantity(1.0, candidate).to_base_units()
        except Exception:  # pint raises several kinds for a name it cannot read; try the next
            continue
        dims = str(base.dimensionality)
        return ("" if dims == "dimensionless" else dims), float(base.magnitude)
    return None, 1.0


def _interval(value: float, surface: str, text: str, tol: tuple[float, float]) -> tuple[float, float]:
    """The values a written figure allows: its rounding, then what its qualifier says (`tol`: the widest
    rounding and the width of "about", as shares of the value)."""
    digits = _DIGITS.search(surface)
    if digits:
        written = digits.group().replace(",", "")
        if "." in written:
            step = 10.0 ** -len(written.split(".")[1])
        else:
            stripped = written.rstrip("0")
            step = 10.0 ** (len(written) - len(stripped)) if stripped else 1.0
    else:  # a number in words: "two", "two and a half"
        step = 1.0 if float(value).is_integer() else 0.1
    r = min(step / 2, tol[0] * abs(value))
    lo, hi = value - r, value + r
    m = QUALIFIER.search(text)
    if m:
        word = fold(m.group(1))
        wide = tol[1] * abs(value)
        if word in _AT_LEAST:
            lo, hi = value, math.inf
        elif word in _AT_MOST:
            lo, hi = -math.inf, value
        elif word in _BELOW:
            lo, hi = value - wide, value
        else:
            lo, hi = min(lo, value - wide), max(hi, value + wide)
    return lo, hi
