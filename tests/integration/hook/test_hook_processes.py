"""Many instrumented processes into one SQLite sink, and instrumented clients across ``fork()``."""

import multiprocessing
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import anthropic
import httpx2

import claudetop
from claudetop.config import Config
from claudetop.hook import make_middleware
from claudetop.model import PolicyMode, PolicyName
from claudetop.policies import PolicyStore
from claudetop.simulate import FakeAnthropic
from claudetop.sinks.forksafe import sqlite_work
from tests.forked import in_forked_child
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


def test_a_fork_waits_for_claudetops_sqlite_work_to_end(tmp_path: Path) -> None:
    """A child forked while a claudetop thread is inside SQLite would inherit SQLite's locks held."""
    inside = threading.Event()

    def work_in_sqlite() -> None:
        with sqlite_work():
            inside.set()
            time.sleep(0.3)

    thread = threading.Thread(target=work_in_sqlite)
    thread.start()
    inside.wait(5)
    started = time.monotonic()
    own_db = tmp_path / "app.db"
    assert in_forked_child(lambda: sqlite3.connect(own_db).execute("SELECT 1").fetchone() == (1,))
    assert time.monotonic() - started >= 0.2  # the fork waited for the section
    thread.join()


def test_a_child_forked_while_the_policy_engine_loads_gets_its_own(sink: Path) -> None:
    """The engine is built on a thread, which a forked child does not have: it builds its own, on a
    SQLite connection of its own (the parent's may not cross a fork)."""
    middleware = make_middleware(sink=sink, policies=True)

    def child_has_a_working_engine() -> bool:
        deadline = time.monotonic() + 5
        while middleware.policies.engine is None and time.monotonic() < deadline:
            time.sleep(0.01)
        engine = middleware.policies.engine
        if engine is None:
            return False
        PolicyStore(str(sink), config=Config()).set("cache", "shadow", by="child")
        deadline = time.monotonic() + 5
        while not engine.active() and time.monotonic() < deadline:  # the engine's store sees it
            time.sleep(0.05)
        return engine.store.current().mode(PolicyName.CACHE) is PolicyMode.SHADOW

    assert in_forked_child(child_has_a_working_engine)
