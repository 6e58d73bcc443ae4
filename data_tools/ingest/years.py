"""Turn free-text dates into one integer year (or None).

The rule, tried in this order (a year counts only within 1000..2100):

* a range ``1503-1519`` / ``1503–19`` / ``1503 to 1519`` -> its midpoint, rounded down (1511);
* the first 4-digit year: ``1889``, ``c. 1889``, ``June 1890``, ``1889?`` -> 1889 / 1890;
* a decade ``1880s`` -> its middle, 1885;
* a century ``19th century`` -> 1850; ``early 19th c.`` -> 1825, ``mid`` -> 1850,
  ``late`` -> 1875;
* anything else (``unknown``, ``n.d.``, empty) -> None.
"""

from __future__ import annotations

import re

_RANGE = re.compile(r"(?<!\d)(\d{4})\s*(?:-|–|—|to|/)\s*(\d{2}|\d{4})(?!\d)")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?![\d])(?!s\b)")
_DECADE = re.compile(r"(?<!\d)(\d{3})0s\b")
_CENTURY = re.compile(r"(?:(early|mid|middle|late)[\s-]+)?(\d{1,2})(?:st|nd|rd|th)[\s-]+c", re.I)
_PART = {"early": 25, "mid": 50, "middle": 50, "late": 75, None: 50}


def parse_year(text: str | None) -> int | None:
    """The year a free-text date stands for, by the module's rule; None if unknown."""
    text = (text or "").strip()
    if not text:
        return None
    if m := _RANGE.search(text):
        start, end = m.group(1), m.group(2)
        if len(end) == 2:
            end = start[:2] + end
        first, last = int(start), int(end)
        if _valid(first) and _valid(last) and last >= first:
            return (first + last) // 2
    for m in _YEAR.finditer(text):
        if _valid(int(m.group(1))):
            return int(m.group(1))
    if m := _DECADE.search(text):
        year = int(m.group(1)) * 10 + 5
        return year if _valid(year) else None
    if m := _CENTURY.search(text):
        century = int(m.group(2))
        year = (century - 1) * 100 + _PART[m.group(1) and m.group(1).lower()]
        return year if _valid(year) else None
    return None


def _valid(year: int) -> bool:
    """Whether a number is a plausible artwork year."""
    return 1000 <= year <= 2100
