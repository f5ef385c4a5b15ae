"""Fail-open: whatever is wrong with the sink or with claudetop itself, the application sees exactly what
an uninstrumented client sees, and exits cleanly and promptly."""

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from claudetop.sinks import connect_sqlite

ROOT = Path(__file__).resolve().parents[3]
REPORT = "claudetop: usage events are not being recorded"


def run_app(
    mode: str, sink: Path, fault: str | None = None, limit_fsize: int | None = None
) -> tuple[str, str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDETOP_")}
    config = Path(os.environ.get("TMPDIR", "/tmp")) / "claudetop-empty-config.toml"
    config.write_text("")
    env["CLAUDETOP_CONFIG"] = str(config)
    if fault:
        env["CLAUDETOP_FAULT"] = fault

    def limits() -> None:
        if limit_fsize is not None:
            import resource
            import signal

            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_fsize, limit_fsize))

    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "tests.integration.hook.fault_app", mode, str(sink)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=limits,
    )
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, proc.stderr, elapsed


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, float]:
    out, err, elapsed = run_app("bare", tmp_path_factory.mktemp("bare") / "unused.db")
    assert out.count("\n") > 20 and "claudetop" not in err
    return out, elapsed


def check_same(baseline: tuple[str, float], sink: Path, **kw: object) -> str:
    out, err, elapsed = run_app("hooked", sink, **kw)  # type: ignore[arg-type]
    assert out == baseline[0]
    assert elapsed < baseline[1] + 6.0, "the hook delayed the application (or its exit) too long"
    return err


@contextmanager
def locked(db: Path) -> Iterator[None]:
    connect_sqlite(db).close()
    code = (
        "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None);"
        "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(120)"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.kill()
        holder.wait()


def test_healthy_sink_records_and_says_nothing(baseline: tuple[str, float], tmp_path: Path) -> None:
    sink = tmp_path / "events.db"
    err = check_same(baseline, sink)
    assert "claudetop" not in err
    conn = sqlite3.connect(sink)
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 8


def test_sink_directory_cannot_be_created(baseline: tuple[str, float], tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    assert check_same(baseline, blocker / "sub" / "events.db").count(REPORT) == 1


def test_sink_on_read_only_filesystem(baseline: tuple[str, float]) -> None:
    assert check_same(baseline, Path("/sys/claudetop-test/events.db")).count(REPORT) == 1


def test_sink_locked_by_another_process(baseline: tuple[str, float], tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    with locked(db):
        assert check_same(baseline, db).count(REPORT) == 1


def test_disk_full_jsonl(baseline: tuple[str, float], tmp_path: Path) -> None:
    link = tmp_path / "events.jsonl"
    link.symlink_to("/dev/full")
    assert check_same(baseline, link).count(REPORT) == 1


def test_file_size_limit_sqlite(baseline: tuple[str, float], tmp_path: Path) -> None:
    assert check_same(baseline, tmp_path / "events.db", limit_fsize=4096).count(REPORT) == 1


def test_corrupt_database(baseline: tuple[str, float], tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    db.write_bytes(b"this is not a database" * 500)
    assert check_same(baseline, db).count(REPORT) == 1


@pytest.mark.parametrize("where", ["middleware", "writer"])
def test_bug_inside_claudetop(baseline: tuple[str, float], tmp_path: Path, where: str) -> None:
    assert check_same(baseline, tmp_path / "events.db", fault=where).count(REPORT) == 1
