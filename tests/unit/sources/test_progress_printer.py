"""The CLI's progress bar: drawn by the reading thread as the read advances, only on a terminal."""

from __future__ import annotations

import io
import threading
import time

from claudetop.sources.progress import Progress, ProgressPrinter


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_bar_is_drawn_as_reads_advance_without_a_thread_of_its_own() -> None:
    progress = Progress("bytes")
    progress.plan(4 << 20, files_total=4)
    terminal = _Terminal()
    threads = threading.active_count()
    with ProgressPrinter([progress], stream=terminal, interval_s=0.01):
        assert threading.active_count() == threads  # a read that forks its scanners may still fork
        for _ in range(4):
            time.sleep(0.02)
            progress.advance(1 << 20, files=1)
    drawn = terminal.getvalue()
    assert "[######------------------]  25% 1/4 files 1.0 MiB/4.0 MiB" in drawn
    assert "100% 4/4 files 4.0 MiB/4.0 MiB" in drawn
    assert drawn.endswith("\r\x1b[K")  # the bar is wiped when the read is over


def test_pipes_get_no_bar_and_a_quick_read_draws_none() -> None:
    progress = Progress("rows")
    progress.plan(10)
    pipe = io.StringIO()
    with ProgressPrinter([progress], stream=pipe, interval_s=0.0):
        progress.advance(10)
    assert pipe.getvalue() == ""
    terminal = _Terminal()
    with ProgressPrinter([progress], stream=terminal, interval_s=60.0):
        progress.advance(1)
    assert terminal.getvalue() == ""
