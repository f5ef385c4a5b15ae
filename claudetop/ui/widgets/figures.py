"""Formatting for panels: numbers as people read them, and lines that fit a width without ever
cutting a number in half.

These are presentation only (no arithmetic on the data beyond rounding for display). Styles are
theme variables (``$success``...), so colours come from the theme files.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content

from claudetop.model import Micros, format_usd

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"
NA = "—"


def money(micros: Micros | None) -> str:
    return "unpriced" if micros is None else format_usd(micros)


def pct(ratio: float | None) -> str:
    return NA if ratio is None else f"{ratio:.0%}"


def count(n: int) -> str:
    return f"{n:,}"


def tokens(n: int) -> str:
    """Token counts in k/M so a column stays narrow; exact below 10,000."""
    if n < 10_000:
        return f"{n:,}"
    if n < 1_000_000:
        return f"{n / 1000:,.0f}k"
    return f"{n / 1_000_000:,.1f}M"


def age(seconds: float | None) -> str:
    if seconds is None:
        return NA
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def gauge(fraction: float | None, width: int, *, high_is_good: bool = True) -> Content:
    """A horizontal bar for a ratio, coloured by how good it is; empty track when unknown."""
    width = max(width, 1)
    if fraction is None:
        return Content.styled("░" * width, "$text-muted")
    filled = round(min(max(fraction, 0.0), 1.0) * width)
    goodness = fraction if high_is_good else 1 - fraction
    style = "$success" if goodness >= 0.6 else "$warning" if goodness >= 0.3 else "$error"
    return Content.assemble(("█" * filled, style), ("░" * (width - filled), "$text-muted"))


def spark(values: Sequence[int], width: int) -> Content:
    """The last ``width`` values as block characters, scaled to the largest."""
    shown = list(values)[-width:] if width > 0 else []
    top = max(shown, default=0)
    if top <= 0:
        return Content.styled(SPARK_BLOCKS[0] * len(shown), "$text-muted")
    chars = "".join(
        SPARK_BLOCKS[min(len(SPARK_BLOCKS) - 1, v * len(SPARK_BLOCKS) // (top + 1))] for v in shown
    )
    return Content.styled(chars, "$accent")


def bar(share: float | None, width: int) -> Content:
    if share is None or width <= 0:
        return Content(" " * max(width, 0))
    filled = round(min(max(share, 0.0), 1.0) * width)
    return Content.assemble(("▇" * filled, "$primary"), " " * (width - filled))


def fit(label: str | Content, value: str | Content, width: int, *, gap: int = 1) -> Content:
    """``label ... value`` in exactly ``width`` cells; the label is shortened, never the value."""
    value_c = value if isinstance(value, Content) else Content(value)
    label_c = label if isinstance(label, Content) else Content(label)
    room = width - value_c.cell_length - gap
    if room <= 0:
        return value_c
    if label_c.cell_length > room:
        label_c = label_c.truncate(room, ellipsis=True)
    return Content.assemble(label_c, " " * (width - label_c.cell_length - value_c.cell_length), value_c)


def columns(cells: Sequence[tuple[str | Content, int]], width: int) -> Content:
    """One table row: the first cell takes what is left (shortened), the others are right-aligned
    at their fixed widths and never cut."""
    fixed = sum(w + 1 for _, w in cells[1:])
    first, _ = cells[0]
    first_c = first if isinstance(first, Content) else Content(first)
    room = max(width - fixed, 0)
    if first_c.cell_length > room:
        first_c = first_c.truncate(room, ellipsis=True)
    parts: list[Content] = [first_c.pad_right(room - first_c.cell_length)]
    for cell, w in cells[1:]:
        c = cell if isinstance(cell, Content) else Content(cell)
        parts.append(Content(" "))
        parts.append(c.pad_left(max(w - c.cell_length, 0)))
    return Content.assemble(*parts)


def lines(rows: Sequence[Content | str]) -> Content:
    return Content("\n").join(rows)


def flow(segments: Sequence[Content | str], width: int, sep: str = "  ") -> Content:
    """As many whole segments as fit on one line of ``width``, in order; a segment that does not fit
    is left out rather than cut."""
    out: list[Content] = []
    used = 0
    for segment in segments:
        seg = segment if isinstance(segment, Content) else Content(segment)
        extra = seg.cell_length + (len(sep) if out else 0)
        if used + extra > width:
            continue
        if out:
            out.append(Content(sep))
        out.append(seg)
        used += extra
    return Content.assemble(*out)
