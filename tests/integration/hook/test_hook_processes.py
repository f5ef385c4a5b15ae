"""Many instrumented processes into one SQLite sink, and instrumented clients across ``fork()``."""

import multiprocessing
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import anthropic
import httpx2

import claudetop
from claudetop.simulate import FakeAnthropic
from tests.integration.hook.conftest import read_events

ROOT = Path(__file__).resolve().parents[3]
PROCESSES = 16
CALLS = 1_000


def test_sixteen_processes_write_exactly_every_event_once(tmp_path: Path) -> None:
    sink = tmp_path / "events.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDETOP_")}
    worker = [sys.executable, "-m", "tests.integration.hook.load_worker", str(sink), str(CALLS)]
    procs = [
        subprocess.Popen(worker, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(PROCESSES)
    ]
    served = 0
    for proc in procs:
        out, err = proc.communicate(timeout=170)
        assert proc.returncode == 0 and "claudetop" not in err, err
        served += int(out)
    assert served == PROCESSES * CALLS
    conn = sqlite3.connect(sink)
    counts = conn.execute("SELECT count(*), count(DISTINCT id), count(DISTINCT pid) FROM events").fetchone()
    assert counts == (PROCESSES * CALLS, PROCESSES * CALLS, PROCESSES)
    wrong = conn.execute("SELECT count(*) FROM events WHERE output_tokens = 0 OR task != 'load'").fetchone()
    assert wrong == (0,)


def test_forked_child_records_its_own_calls_once(fake: FakeAnthropic, sink: Path) -> None:
    client = claudetop.instrument(
        anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test", max_retries=0),
        sink=sink,
        policies=False,
    )
    msgs = [{"role": "user", "content": "hi"}]
    client.messages.create(
        model="claude-haiku-4-5", max_tokens=5, messages=msgs
    )  # parent's writer is running
    pid = os.fork()
    if pid == 0:  # child: same client object, fresh writer; leave through the normal exit path
        code = 0
        try:
            for _ in range(5):
                client.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=msgs)
            code = 0 if claudetop.flush(10.0) else 3
        except BaseException:
            code = 4
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    client.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=msgs)
    events = read_events(sink)
    by_pid: dict[int | None, int] = {}
    for e in events:
        by_pid[e.pid] = by_pid.get(e.pid, 0) + 1
    assert by_pid == {os.getpid(): 2, pid: 5}
    assert len({e.id for e in events}) == 7


def _calls_in_a_child(client: anthropic.Anthropic, calls: int) -> None:
    local = client.with_options(http_client=httpx2.Client())  # the parent's pool is not the child's
    for _ in range(calls):
        local.messages.create(
            model="claude-haiku-4-5", max_tokens=5, messages=[{"role": "user", "content": "hi"}]
        )


def test_a_multiprocessing_child_records_its_calls_before_it_exits(fake: FakeAnthropic, sink: Path) -> None:
    """A multiprocessing child leaves through os._exit, past atexit: its writer must still flush."""
    client = claudetop.instrument(
        anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test", max_retries=0),
        sink=sink,
        policies=False,
    )
    client.messages.create(
        model="claude-haiku-4-5", max_tokens=5, messages=[{"role": "user", "content": "hi"}]
    )
    child = multiprocessing.get_context("fork").Process(target=_calls_in_a_child, args=(client, 5))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    by_pid: dict[int | None, int] = {}
    for e in read_events(sink):
        by_pid[e.pid] = by_pid.get(e.pid, 0) + 1
    assert by_pid == {os.getpid(): 1, child.pid: 5}
