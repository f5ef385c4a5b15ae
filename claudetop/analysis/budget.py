"""Monthly budget alerts: each threshold fires once per UTC calendar month, is remembered across
restarts, and may run the user's ``monitoring.alert_command``.

A threshold (a fraction of ``monitoring.monthly_budget_usd``, e.g. 0.5, 0.8, 1.0) fires when the
month's *actual* spend to date reaches it; a projection over budget is shown but does not fire, so an
alert always means money already spent. A threshold is remembered with the budget it fired at: raising
the budget mid-month re-arms it (80% of the new budget is news), the same budget never fires it twice.

Fired alerts live in a small JSON file (by default ``$CLAUDETOP_STATE_DIR/budget_alerts.json`` or the
platform's state dir), written atomically, so a restarted monitor or the next cron run of ``claudetop
report`` does not fire them again. Several processes share it (the monitor and a report, two reports
run by cron at once): a check reads, decides and writes under an exclusive lock on a file next to it,
so whichever process crosses a threshold first fires it and the others see it fired. The command
runs in the background (a shell, with ``CLAUDETOP_ALERT_*`` variables describing the alert), is
killed after ``command_timeout_s``, and never blocks or fails the caller.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from claudetop._warn import warn_once
from claudetop.config import Config, state_dir
from claudetop.model import Micros, usd_str


def default_alert_state_path(env: dict[str, str] | None = None) -> Path:
    return state_dir(env) / "budget_alerts.json"


@dataclass(frozen=True, slots=True)
class BudgetAlert:
    month: str
    """``YYYY-MM`` (UTC)."""
    threshold: float
    fired_at: datetime
    month_to_date_micros: Micros
    budget_micros: Micros
    scope: str = ""
    """The sources whose spend it measured (``scope_of``): a report on one sink and a monitor that also
    reads Claude Code transcripts measure different spend, and each must get its own alerts."""

    @property
    def key(self) -> tuple[str, float, Micros, str]:
        """What fires once: a threshold of one budget over one set of sources in one month."""
        return (self.month, self.threshold, self.budget_micros, self.scope)


LOCK_WAIT_S = 2.0
"""How long a check waits for another process's check to finish before skipping this one."""


def _lock(fd: int, wait_s: float) -> bool:
    """An exclusive ``flock`` on ``fd``, waiting at most ``wait_s``."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)


def scope_of(source_names: Iterable[str]) -> str:
    """The alert scope of a set of sources, as their names (one per line, sorted)."""
    return "\n".join(sorted(set(source_names)))


def month_key(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m")


def crossed(thresholds: Sequence[float], month_to_date: Micros, budget: Micros) -> list[float]:
    """Thresholds reached by ``month_to_date`` spend (exact: ``spend >= threshold x budget``)."""
    return [t for t in thresholds if month_to_date * 1_000_000 >= round(t * 1_000_000) * budget]


Runner = Callable[[str, dict[str, str], float], None]


def run_in_background(command: str, env: dict[str, str], timeout_s: float) -> None:
    """Start ``command`` in a shell and return at once; a daemon thread reaps it or kills it on timeout."""
    import subprocess  # only when a threshold is crossed

    try:
        proc = subprocess.Popen(
            command,
            shell=True,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as err:
        print(f"claudetop: alert_command failed to start: {err}", file=sys.stderr)
        return

    def reap() -> None:
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    threading.Thread(target=reap, name="claudetop-alert-command", daemon=True).start()


class BudgetAlerts:
    """Fires and remembers budget thresholds; ``check`` is called with every fresh month-to-date figure."""

    def __init__(
        self,
        budget_micros: Micros,
        thresholds: Sequence[float],
        state_path: Path | None,
        *,
        command: str | None = None,
        command_timeout_s: float = 30.0,
        runner: Runner = run_in_background,
        scope: str = "",
    ) -> None:
        self.budget_micros = budget_micros
        self.scope = scope
        self.thresholds = tuple(sorted(thresholds))
        self.state_path = state_path
        self.command = command
        self.command_timeout_s = command_timeout_s
        self._runner = runner
        self._fired: list[BudgetAlert] = self._load()

    @contextmanager
    def _state(self) -> Iterator[bool]:
        """Hold the state file's lock and merge what it records into ``_fired``: what another process
        fired since is seen, and nobody else fires or writes until the block ends. Yields ``False`` when
        another process has held the lock for ``LOCK_WAIT_S`` (a report suspended with ^Z): the monitor's
        refresh must not wait on it, and the next check tries again."""
        if self.state_path is None:
            yield True
            return
        lock_path = self.state_path.with_name(f".{self.state_path.name}.lock")
        lock_fd: int | None = None
        try:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            lock_fd = os.open(lock_path, os.O_CREAT | os.O_RDONLY, 0o600)
        except OSError:
            pass  # a directory claudetop cannot write to: ``_save`` says so
        try:
            if lock_fd is not None and not _lock(lock_fd, LOCK_WAIT_S):
                warn_once(
                    f"locked:{lock_path}",
                    f"{lock_path} is locked by another process; budget alerts not checked",
                )
                yield False
                return
            on_disk = {a.key: a for a in self._load()}
            self._fired = [*on_disk.values(), *(a for a in self._fired if a.key not in on_disk)]
            yield True
        finally:
            if lock_fd is not None:
                os.close(lock_fd)  # releases the lock

    def _load(self) -> list[BudgetAlert]:
        if self.state_path is None or not self.state_path.exists():
            return []
        try:
            raw = json.loads(self.state_path.read_text())
            return [
                BudgetAlert(
                    month=a["month"],
                    threshold=float(a["threshold"]),
                    fired_at=datetime.fromisoformat(a["fired_at"]),
                    month_to_date_micros=int(a["month_to_date_micros"]),
                    budget_micros=int(a["budget_micros"]),
                    scope=str(a.get("scope", "")),
                )
                for a in raw["fired"]
            ]
        except (OSError, ValueError, KeyError, TypeError) as err:
            warn_once(f"unreadable:{self.state_path}", f"ignoring unreadable {self.state_path}: {err}")
            return []

    def _save(self) -> None:
        if self.state_path is None:
            return
        doc = {
            "fired": [
                {
                    "month": a.month,
                    "threshold": a.threshold,
                    "fired_at": a.fired_at.isoformat(),
                    "month_to_date_micros": a.month_to_date_micros,
                    "budget_micros": a.budget_micros,
                    "scope": a.scope,
                }
                for a in self._fired
            ]
        }
        try:
            fd, tmp = tempfile.mkstemp(dir=self.state_path.parent, prefix=".budget_alerts.")
            with os.fdopen(fd, "w") as out:
                json.dump(doc, out, indent=1)
            os.replace(tmp, self.state_path)
        except OSError as err:  # still remembered by this process, which fires nothing twice
            warn_once(
                f"unsaved:{self.state_path}", f"cannot record budget alerts in {self.state_path}: {err}"
            )

    def fired(self, month: str) -> list[BudgetAlert]:
        """Alerts fired in ``month`` (``YYYY-MM``) at this budget over these sources, lowest threshold
        first (as of the last ``check``)."""
        return sorted(
            (
                a
                for a in self._fired
                if a.month == month and a.budget_micros == self.budget_micros and a.scope == self.scope
            ),
            key=lambda a: a.threshold,
        )

    def check(self, now: datetime, month_to_date_micros: Micros) -> list[BudgetAlert]:
        """Fire the thresholds newly reached this month at this budget; returns them (already recorded)."""
        month = month_key(now)
        with self._state() as locked:
            if not locked:
                return []
            done = {a.threshold for a in self.fired(month)}
            new = [
                BudgetAlert(
                    month, t, now.astimezone(UTC), month_to_date_micros, self.budget_micros, self.scope
                )
                for t in crossed(self.thresholds, month_to_date_micros, self.budget_micros)
                if t not in done
            ]
            if not new:
                return []
            self._fired = [a for a in self._fired if a.month >= month_key_of_previous(month)] + new
            self._save()
        if self.command:
            for alert in new:
                self._runner(self.command, alert_env(alert), self.command_timeout_s)
        return new


def month_key_of_previous(month: str) -> str:
    """The month before ``month``: the state file keeps this month and the last one only."""
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"


def alert_env(alert: BudgetAlert) -> dict[str, str]:
    """What the alert command is told, as environment variables."""
    return {
        "CLAUDETOP_ALERT": "budget",
        "CLAUDETOP_ALERT_MONTH": alert.month,
        "CLAUDETOP_ALERT_THRESHOLD": f"{alert.threshold:g}",
        "CLAUDETOP_ALERT_PERCENT": f"{alert.threshold * 100:g}",
        "CLAUDETOP_ALERT_MONTH_TO_DATE_USD": usd_str(alert.month_to_date_micros),
        "CLAUDETOP_ALERT_BUDGET_USD": usd_str(alert.budget_micros),
        "CLAUDETOP_ALERT_FIRED_AT": alert.fired_at.isoformat(),
        "CLAUDETOP_ALERT_SOURCES": alert.scope,
    }


def budget_alerts_for(
    config: Config, budget_micros: Micros | None, state_path: Path | None, source_names: Iterable[str]
) -> BudgetAlerts | None:
    """Alerts at ``budget_micros`` over these sources with the config's thresholds and command; ``None``
    (nothing fires) without a budget or without a state file to remember them in."""
    if budget_micros is None or state_path is None:
        return None
    m = config.monitoring
    return BudgetAlerts(
        budget_micros,
        m.alert_thresholds,
        state_path,
        command=m.alert_command,
        scope=scope_of(source_names),
    )
