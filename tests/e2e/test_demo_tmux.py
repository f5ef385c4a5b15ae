"""``claudetop demo`` in a real terminal: tmux at 80x24, read with ``capture-pane`` like a person would.

The real command from the venv runs the fake API, the workload through the hook into a temporary
sink, and the monitor on it. The simulated clock starts a minute before the nightly summaries so
the app's own batches (the polling-storm pathology) show up within seconds. The test reads the
figures off the screen, toggles caching to enforce with ``c c y`` and watches the hit ratio rise,
then quits with ``q`` and checks the exit status the shell recorded.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest

COLS, ROWS = 80, 24
SPEED = 60
"""Simulated seconds per real second: the nightly batch starts one real second in."""
T = TypeVar("T")


def _ensure_tmux() -> str:
    found = shutil.which("tmux")
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        pytest.skip("tmux is not installed and cannot be installed here (needs apt-get as root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for args in ([apt, "update"], [apt, "install", "-y", "tmux"]):
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            pytest.skip(f"could not install tmux ({' '.join(args[1:])}): {done.stderr.strip()[-300:]}")
    found = shutil.which("tmux")
    if found is None:
        pytest.skip("apt-get installed tmux but it is not on PATH")
    return found


def _claudetop() -> Path:
    exe = Path(sys.executable).parent / "claudetop"
    if not exe.exists():
        pytest.fail(f"{exe} is missing: install the package into the venv (pip install -e .)")
    return exe


def _last_0159_utc() -> datetime:
    """The latest 01:59 UTC that is not in the future, so batch ages are never negative."""
    now = datetime.now(UTC)
    start = now.replace(hour=1, minute=59, second=0, microsecond=0)
    return start if start <= now else start - timedelta(days=1)


class Terminal:
    """One detached tmux session on a private server socket."""

    def __init__(self, tmux: str, socket: str, env: dict[str, str]) -> None:
        self.tmux = tmux
        self.socket = socket
        self.env = env
        self.last = ""

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [self.tmux, "-L", self.socket, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return done.stdout

    def screen(self) -> str:
        self.last = self.run("capture-pane", "-p", "-t", "demo")
        return self.last

    def press(self, key: str) -> None:
        self.run("send-keys", "-t", "demo", key)

    def wait_for(self, what: str, probe: Callable[[str], T | None], timeout_s: float) -> T:
        """Poll the screen until ``probe`` returns something; fail with the last screen."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = probe(self.screen())
            if found is not None:
                return found
            time.sleep(0.25)
        raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}; screen:\n{self.last}")


def _money(text: str) -> int:
    """``$1,234.56`` → cents (the screen shows two decimals)."""
    return round(float(text.replace("$", "").replace(",", "")) * 100)


@dataclass(frozen=True)
class Figures:
    month_cents: int
    requests: int
    hit_pct: int
    mix: tuple[tuple[str, ...], ...]
    """(model or task, call share, token share, cost) rows of the model mix panel."""
    batches: tuple[str, str, str]
    """(in progress, ended, requests waiting)."""
    cache_mode: str


def _figures(screen: str) -> Figures | None:
    """The key figures as the screen shows them, or ``None`` while a figure is not on screen yet."""
    month = re.search(r"month (\$[\d,]+\.\d\d)", screen)
    total = re.search(r"total ([\d,]+) req", screen)
    hit = re.search(r"hit ratio\s+(\d+)%", screen)
    mix = re.findall(r"│ ([a-z][\w.-]*)\s+(\d+)%\s+(\d+)%\s+(\$[\d,]+\.\d\d) │", screen)
    batches = re.search(r"in progress / ended\s+([\d,]+) / ([\d,]+)", screen)
    waiting = re.search(r"requests waiting\s+([\d,]+)", screen)
    cache_mode = re.search(r"│ cache\b.*?\b(off|shadow|enforce)\b", screen)
    if not (month and total and hit and mix and batches and waiting and cache_mode):
        return None
    return Figures(
        month_cents=_money(month.group(1)),
        requests=int(total.group(1).replace(",", "")),
        hit_pct=int(hit.group(1)),
        mix=tuple(mix),
        batches=(batches.group(1), batches.group(2), waiting.group(1)),
        cache_mode=cache_mode.group(1),
    )


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    tmux = _ensure_tmux()
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),  # no user config, themes or Claude Code transcripts leak in
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "TERM": "xterm-256color",
    }
    for var in ("TMUX", "CLAUDETOP_CONFIG", "CLAUDETOP_SINK", "CLAUDETOP_THEME", "NO_COLOR"):
        env.pop(var, None)
    term = Terminal(tmux, f"claudetop-e2e-{os.getpid()}-{uuid.uuid4().hex[:8]}", env)
    try:
        yield term
    finally:
        subprocess.run([tmux, "-L", term.socket, "kill-server"], env=env, capture_output=True, check=False)


def test_demo_in_tmux_updates_toggles_caching_and_quits(terminal: Terminal, tmp_path: Path) -> None:
    exit_file = tmp_path / "exit"
    command = (
        f"{_claudetop()} demo --sink {tmp_path / 'demo.db'} --speed {SPEED} "
        f"--start {_last_0159_utc().isoformat()} --pathologies polling_storm --seed 7"
    )
    terminal.run(
        "new-session", "-d", "-s", "demo", "-x", str(COLS), "-y", str(ROWS),
        f"sh -c '{command}; echo EXIT=$? > {exit_file}'",
    )  # fmt: skip

    def spending(screen: str) -> Figures | None:
        f = _figures(screen)
        return f if f is not None and f.month_cents > 0 and f.requests > 0 else None

    first = terminal.wait_for("non-zero cost with every panel drawn", spending, 30)

    def moved_on(screen: str) -> Figures | None:
        f = _figures(screen)
        if f is None:
            return None
        changed = (
            f.month_cents > first.month_cents
            and f.requests > first.requests
            and f.mix != first.mix
            and f.batches != first.batches
        )
        return f if changed else None

    second = terminal.wait_for("cost, model mix and batch figures to update", moved_on, 30)
    assert second.cache_mode == "off"
    assert second.batches[:2] != ("0", "0"), second

    def cache_mode(mode: str) -> Callable[[str], Figures | None]:
        def probe(screen: str) -> Figures | None:
            f = _figures(screen)
            return f if f is not None and f.cache_mode == mode else None

        return probe

    terminal.press("c")
    terminal.wait_for("caching → shadow", cache_mode("shadow"), 10)
    terminal.press("c")
    terminal.wait_for("the enforce confirmation", lambda s: "Enforce the cache policy?" in s or None, 10)
    terminal.press("y")
    enforced = terminal.wait_for("caching → enforce", cache_mode("enforce"), 10)

    def hit_rose(screen: str) -> Figures | None:
        f = _figures(screen)
        return f if f is not None and f.hit_pct > enforced.hit_pct else None

    terminal.wait_for(f"the hit ratio to rise above {enforced.hit_pct}%", hit_rose, 20)

    terminal.press("q")
    deadline = time.monotonic() + 15
    while not exit_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert exit_file.exists(), f"claudetop demo did not exit within 15 s of q; screen:\n{terminal.screen()}"
    assert exit_file.read_text().strip() == "EXIT=0"
