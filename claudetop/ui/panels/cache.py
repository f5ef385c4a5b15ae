"""Cache: hit ratio gauge, reads per write against break-even, dollars saved, worst prefixes."""

from __future__ import annotations

from textual.content import Content

from claudetop.model import Snapshot
from claudetop.ui.panels.base import Panel
from claudetop.ui.widgets.figures import NA, columns, fit, gauge, lines, money, pct, tokens


class CachePanel(Panel):
    TITLE = "1 cache"

    def body(self, snapshot: Snapshot, width: int, height: int) -> Content:
        c = snapshot.cache
        ratio = Content.styled(pct(c.hit_ratio), "bold")
        rows: list[Content] = [
            Content.assemble(fit("hit ratio", ratio, 16), " ", gauge(c.hit_ratio, max(width - 17, 1))),
        ]
        rpw = NA if c.reads_per_write is None else f"{c.reads_per_write:.1f}"
        good = c.reads_per_write is not None and c.reads_per_write >= c.break_even_reads_per_write
        rows.append(
            fit(
                "reads/write",
                Content.assemble(
                    (rpw, "bold $success" if good else "bold $warning"),
                    f" (≥{c.break_even_reads_per_write:.1f})",
                ),
                width,
            )
        )
        rows.append(
            fit(
                "saved by cache",
                Content.styled(money(c.saved_micros), "bold $error" if c.saved_micros < 0 else "bold"),
                width,
            )
        )
        rows.append(
            fit(
                "tok read/write/plain",
                f"{tokens(c.read_tokens)}/{tokens(c.write_tokens)}/{tokens(c.uncached_input_tokens)}",
                width,
            )
        )
        if c.worst_prefixes and height > len(rows) + 1:
            rows.append(
                Content.styled(
                    columns([("worst prefix", 0), ("w", 5), ("r", 5), ("wasted", 10)], width).plain,
                    "$text-muted",
                )
            )
            for p in c.worst_prefixes[: height - len(rows)]:
                label = f"{p.hash_short[:8]} {p.scope} {p.task or ''}"
                rows.append(
                    columns(
                        [(label, 0), (str(p.writes), 5), (str(p.reads), 5), (money(p.wasted_micros), 10)],
                        width,
                    )
                )
        return lines(rows)
