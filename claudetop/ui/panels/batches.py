"""Batch backlog: batches by state, requests waiting, oldest age, deferred queue, savings, polling."""

from __future__ import annotations

from textual.content import Content

from claudetop.model import Snapshot
from claudetop.ui.panels.base import Panel
from claudetop.ui.widgets.figures import NA, age, columns, count, fit, lines, money, pct


class BatchesPanel(Panel):
    TITLE = "3 batches"

    def body(self, snapshot: Snapshot, width: int, height: int) -> Content:
        b = snapshot.batches
        bold = "bold"
        rows = [
            fit(
                "in progress / ended",
                Content.styled(f"{count(b.batches_in_progress)} / {count(b.batches_ended)}", bold),
                width,
            ),
            fit("requests waiting", Content.styled(count(b.requests_processing), bold), width),
            fit("oldest in progress", Content.styled(age(b.oldest_in_progress_age_s), bold), width),
            fit(
                "deferred queue",
                Content.styled(NA if b.deferred_queue_depth is None else count(b.deferred_queue_depth), bold),
                width,
            ),
            fit(
                "batch share · saved",
                Content.styled(f"{pct(b.share_of_requests)} · {money(b.saved_micros)}", bold),
                width,
            ),
        ]
        failed = b.requests_errored + b.requests_expired + b.requests_canceled
        if failed and height > len(rows):
            rows.append(
                fit(
                    "errored/expired/canceled",
                    Content.styled(
                        f"{b.requests_errored}/{b.requests_expired}/{b.requests_canceled}", "bold $error"
                    ),
                    width,
                )
            )
        if b.polling and height > len(rows) + 1:
            rows.append(
                Content.styled(
                    columns([("polling", 0), ("age", 6), ("polls/min", 9)], width).plain, "$text-muted"
                )
            )
            for p in b.polling[: height - len(rows)]:
                style = "$error" if p.retrieves_per_minute > 1 else ""
                rows.append(
                    columns(
                        [
                            (f"{p.batch_id} {p.status}", 0),
                            (age(p.age_s), 6),
                            (Content.styled(f"{p.retrieves_per_minute:.1f}", style), 9),
                        ],
                        width,
                    )
                )
        return lines(rows)
