"""Claude Code ingest speed: claudetop vs ccusage on the same generated transcript corpus.

Generates a corpus shaped like real ``~/.claude/projects`` trees (about 1 GiB by default): sessions
of user prompts, streamed assistant replies written as several lines repeating the same message's
usage (the last with the final output count), large tool results, subagent transcripts under
``<session>/subagents/`` echoed into the parent as ``progress`` lines, 1h cache writes, older lines
without the 5m/1h split, synthetic error lines and a few garbage lines.

Then, in the same run, it times (each a fresh process; ``CLAUDETOP_STATE_DIR`` is a new temp dir):

- ccusage: ``npx ccusage@20.0.24 daily --offline --json`` (installed into a temp dir if missing),
  once untimed to warm the page cache and npx for both sides alike;
- ``claudetop report --claude-code DIR --format json --since 2000-01-01`` cold (no checkpoint, no
  remembered prices: a first run), then warm (rerun over what the cold run left), then over an empty
  dir (the CLI's startup floor);
- ``python -c pass``: starting Python alone.

The package is byte-compiled first, as an installed wheel is: an editable checkout run with
``PYTHONDONTWRITEBYTECODE`` would otherwise compile every module again on every run, cold or warm.

It prints wall time, CPU time (user + system, workers included) and peak RSS of each (the largest
single process from ``wait4``, and the sum over the process tree sampled every 20 ms), the time
ratio claudetop/ccusage (goal <= 1.0, limit 1.5), warm/cold (limit 0.10), and whether the token
totals agree. Wall times on a loaded machine are noisy: ``--rounds N`` repeats the measurement.

Usage: ``python bench/ingest.py [--size-mb 1024] [--dir DIR] [--keep] [--rounds N]``
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import claudetop

CCUSAGE = "ccusage@20.0.24"
MODELS = ("claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-opus-4-1-20250805")
VERSION = "2.0.14"


class _Text:
    """Random printable text from a pool, so generating a GiB costs little CPU."""

    def __init__(self, rng: random.Random) -> None:
        raw = base64.b64encode(rng.randbytes(3 * 1024 * 1024)).decode()
        self.pool = raw.replace("+", " ").replace("/", "\\n")
        self.rng = rng

    def take(self, size: int) -> str:
        start = self.rng.randrange(0, len(self.pool) - size - 2)
        text = self.pool[start : start + size]
        return text[:-1] if text.endswith("\\") else text


@dataclass
class _Session:
    project: str
    session_id: str
    cwd: str
    clock: datetime


def _dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"))


class CorpusWriter:
    """Writes one synthetic Claude Code history; every choice comes from ``seed``."""

    def __init__(self, root: Path, seed: int = 7, max_prompt_tokens: int = 190_000) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.text = _Text(self.rng)
        self.max_prompt = max_prompt_tokens
        self.bytes = 0
        self.messages = 0

    def _ids(self) -> tuple[str, str, str]:
        r = self.rng
        return (
            "msg_01"
            + "".join(r.choices("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789", k=22)),
            "req_011"
            + "".join(r.choices("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789", k=21)),
            str(uuid.UUID(int=r.getrandbits(128), version=4)),
        )

    def _usage(self, output: int) -> dict[str, Any]:
        r = self.rng
        read = r.randrange(0, self.max_prompt // 2)
        write = r.randrange(0, min(30_000, self.max_prompt - read))
        usage: dict[str, Any] = {
            "input_tokens": r.randrange(1, 50),
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
        }
        kind = r.random()
        if kind < 0.15:
            pass
        elif kind < 0.30:
            one_hour = r.randrange(0, write + 1)
            usage["cache_creation"] = {
                "ephemeral_5m_input_tokens": write - one_hour,
                "ephemeral_1h_input_tokens": one_hour,
            }
        else:
            usage["cache_creation"] = {"ephemeral_5m_input_tokens": write, "ephemeral_1h_input_tokens": 0}
        usage["output_tokens"] = output
        usage["service_tier"] = "standard"
        return usage

    def _base(self, s: _Session, sidechain: bool, kind: str, uid: str) -> dict[str, Any]:
        s.clock += timedelta(seconds=self.rng.randrange(1, 90))
        return {
            "parentUuid": None,
            "isSidechain": sidechain,
            "userType": "external",
            "cwd": s.cwd,
            "sessionId": s.session_id,
            "version": VERSION,
            "gitBranch": "main",
            "type": kind,
            "uuid": uid,
            "timestamp": s.clock.strftime("%Y-%m-%dT%H:%M:%S.") + f"{s.clock.microsecond // 1000:03d}Z",
        }

    def _assistant(self, s: _Session, sidechain: bool, model: str) -> tuple[list[str], dict[str, Any]]:
        """The streamed lines of one reply (2-4, usage repeated, last has the final output count)."""
        mid, rid, _ = self._ids()
        final_output = self.rng.randrange(20, 4000)
        usage = self._usage(final_output)
        blocks = self.rng.randrange(2, 5)
        lines = []
        last: dict[str, Any] = {}
        for i in range(blocks):
            kind = ("thinking", "text", "tool_use", "text")[i]
            block: dict[str, Any] = {"type": kind}
            if kind == "tool_use":
                block.update(id="toolu_" + mid[6:], name="Read", input={"file_path": s.cwd + "/src/x.py"})
            else:
                block[kind] = self.text.take(self.rng.randrange(500, 6000))
            partial = dict(usage)
            partial["output_tokens"] = (
                final_output if i == blocks - 1 else self.rng.randrange(1, final_output)
            )
            line = self._base(s, sidechain, "assistant", self._ids()[2])
            line["message"] = {
                "id": mid,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [block],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": partial,
            }
            line["requestId"] = rid
            lines.append(_dump(line))
            last = line
        self.messages += 1
        return lines, last

    def _user(self, s: _Session, sidechain: bool, big: bool) -> str:
        line = self._base(s, sidechain, "user", self._ids()[2])
        if big:
            content: Any = [
                {
                    "tool_use_id": "toolu_" + self._ids()[0][6:],
                    "type": "tool_result",
                    "content": self.text.take(self.rng.randrange(8_000, 60_000)),
                }
            ]
        else:
            content = self.text.take(self.rng.randrange(50, 800))
        line["message"] = {"role": "user", "content": content}
        return _dump(line)

    def _write(self, path: Path, lines: list[str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = "\n".join(lines) + "\n"
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(data)
        self.bytes += len(data)

    def session(self, project: str, start: datetime) -> None:
        r = self.rng
        s = _Session(
            project, str(uuid.UUID(int=r.getrandbits(128), version=4)), "/home/dev/" + project, start
        )
        main_model = r.choice(MODELS)
        lines: list[str] = []
        for _turn in range(r.randrange(5, 40)):
            lines.append(self._user(s, False, big=False))
            for _step in range(r.randrange(1, 6)):
                streamed, _ = self._assistant(s, False, main_model)
                lines.extend(streamed)
                lines.append(self._user(s, False, big=r.random() < 0.6))
            if r.random() < 0.15:
                lines.extend(self._subagent(s))
            if r.random() < 0.03:
                err = self._base(s, False, "assistant", self._ids()[2])
                err["isApiErrorMessage"] = True
                err["message"] = {
                    "id": self._ids()[2], "model": "<synthetic>", "role": "assistant", "type": "message",
                    "content": [{"type": "text", "text": "API Error: 500"}], "stop_reason": "stop_sequence",
                    "usage": {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0,
                              "cache_read_input_tokens": 0},
                }  # fmt: skip
                lines.append(_dump(err))
            if r.random() < 0.01:
                lines.append('{"type":"assistant","message":{"usage":{"input_tokens":1')
        self._write(self.root / "projects" / project / f"{s.session_id}.jsonl", lines)

    def _subagent(self, s: _Session) -> list[str]:
        """A subagent file, and the progress lines its replies leave in the parent transcript."""
        agent = self.rng.getrandbits(32)
        sub: list[str] = []
        progress: list[str] = []
        model = MODELS[1] if self.rng.random() < 0.5 else MODELS[0]
        for _ in range(self.rng.randrange(2, 10)):
            sub.append(self._user(s, True, big=self.rng.random() < 0.5))
            streamed, last = self._assistant(s, True, model)
            sub.extend(streamed)
            echo = self._base(s, False, "progress", self._ids()[2])
            keys = ("type", "timestamp", "requestId", "isSidechain", "uuid", "message")
            echo["data"] = {"type": "agent_progress", "message": {k: last[k] for k in keys}}
            progress.append(_dump(echo))
        self._write(
            self.root / "projects" / s.project / s.session_id / "subagents" / f"agent-{agent:08x}.jsonl", sub
        )
        return progress

    def generate(self, target_bytes: int) -> None:
        projects = [f"-home-dev-project{i}" for i in range(max(2, min(40, target_bytes // (25 << 20))))]
        start = datetime(2025, 10, 1, 8, tzinfo=UTC)
        while self.bytes < target_bytes:
            start += timedelta(minutes=self.rng.randrange(10, 600))
            self.session(self.rng.choice(projects), start)


def generate_corpus(root: Path, target_bytes: int, seed: int = 7, max_prompt_tokens: int = 190_000) -> int:
    """Write a corpus of about ``target_bytes`` under ``root`` (a Claude config dir); returns its size."""
    writer = CorpusWriter(root, seed, max_prompt_tokens)
    writer.generate(target_bytes)
    return writer.bytes


# --- measuring -------------------------------------------------------------------------------


def ccusage_command(workdir: Path) -> list[str]:
    """``npx ccusage@20.0.24`` from a private prefix (installed on first use, npm registry)."""
    prefix = workdir / "ccusage-npm"
    binary = prefix / "node_modules" / ".bin" / "ccusage"
    if not binary.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(prefix), CCUSAGE],
            check=True,
            capture_output=True,
        )
    return ["npx", "--no-install", "--prefix", str(prefix), "ccusage", "daily", "--offline", "--json"]


def _tree_rss_kib(root: int) -> int:
    """Resident KiB of ``root`` and all its descendants now (forked workers included)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    page_kib = os.sysconf("SC_PAGE_SIZE") // 1024
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = int(fields[21]) * page_kib
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return sum(rss.get(pid, 0) for pid in tree)


@dataclass
class Run:
    seconds: float
    max_rss_kib: int
    """Largest single process (``wait4`` rusage)."""
    tree_rss_kib: int
    """Largest sum over the process tree, sampled every 20 ms (workers' shared pages counted in each)."""
    cpu_seconds: float
    """User + system time of the process and its workers: less sensitive to a loaded machine."""
    out: bytes


def _timed_child(cmd: list[str], env: dict[str, str]) -> Run:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.wait(0.02):
            peak = max(peak, _tree_rss_kib(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.append(proc.stderr.read() if proc.stderr else b""))
    reader.start()
    out = proc.stdout.read() if proc.stdout else b""
    reader.join()
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    stop.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = errors[0] if errors else b""
    if proc.returncode not in (0, 3):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.decode()[-2000:]}")
    return Run(elapsed, usage.ru_maxrss, max(peak, 1), usage.ru_utime + usage.ru_stime, out)


def _report_totals(out: bytes) -> tuple[int, int, int, int, str]:
    tokens = json.loads(out)["totals"]
    t = tokens["tokens"]
    return (
        t["input"],
        t["output"],
        t["cache_write_5m"] + t["cache_write_1h"],
        t["cache_read"],
        tokens["cost_usd"],
    )


def _ccusage_totals(out: bytes) -> tuple[int, int, int, int, float]:
    data = json.loads(out)
    t = data["totals"]
    return (
        t["inputTokens"],
        t["outputTokens"],
        t["cacheCreationTokens"],
        t["cacheReadTokens"],
        t["totalCost"],
    )


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _rss(run: Run) -> str:
    largest, tree = run.max_rss_kib / 1024, run.tree_rss_kib / 1024
    rss = f"peak RSS {largest:,.0f} MiB (largest process), {tree:,.0f} MiB (process tree)"
    return f"CPU {run.cpu_seconds:.2f}s, {rss}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="corpus size (default 1024 = about 1 GiB)")
    parser.add_argument("--dir", type=Path, help="reuse/keep the corpus here (generated if empty)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary corpus")
    parser.add_argument("--rounds", type=int, default=1, help="measure this many times (noisy machines)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="claudetop-ingest-"))
    corpus = args.dir or work / "claude"
    try:
        if not (corpus / "projects").is_dir():
            t0 = time.perf_counter()
            size = generate_corpus(corpus, args.size_mb << 20)
            print(f"generated {size / 2**20:,.0f} MiB in {time.perf_counter() - t0:.1f}s at {corpus}")
        else:
            size = sum(p.stat().st_size for p in (corpus / "projects").rglob("*.jsonl"))
            print(f"reusing {size / 2**20:,.0f} MiB at {corpus}")
        env = dict(
            os.environ, CLAUDE_CONFIG_DIR=str(corpus), TZ="UTC", CLAUDETOP_STATE_DIR=str(work / "state")
        )
        cc_cmd = ccusage_command(work)
        report_cmd = [sys.executable, "-m", "claudetop", "report", "--claude-code", str(corpus)]
        report_cmd += ["--format", "json", "--since", "2000-01-01"]
        empty = work / "empty"
        (empty / "projects").mkdir(parents=True, exist_ok=True)
        floor_cmd = [*report_cmd[:5], str(empty), *report_cmd[6:]]
        python_cmd = [sys.executable, "-c", "pass"]
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(claudetop.__file__).parent)])
        for _ in range(args.rounds):
            _timed_child(cc_cmd, env)  # warm the page cache and npx for both sides alike
            shutil.rmtree(work / "state", ignore_errors=True)
            cc = _timed_child(cc_cmd, env)
            cold = _timed_child(report_cmd, env)
            warm = _timed_child(report_cmd, env)
            floor = _timed_child(floor_cmd, env)
            python = _timed_child(python_cmd, env)
            print(f"corpus: {size / 2**20:,.0f} MiB; {os.cpu_count()} cores; load average {_load()}")
            print(f"ccusage ({CCUSAGE} daily --offline --json): {cc.seconds:.2f}s, {_rss(cc)}")
            print(
                f"claudetop report --claude-code DIR --format json, cold: {cold.seconds:.2f}s, {_rss(cold)}"
            )
            print(f"  same, warm rerun (checkpoints): {warm.seconds:.2f}s, {_rss(warm)}")
            print(
                f"  same over an empty dir (startup floor): {floor.seconds:.2f}s "
                f"= {floor.seconds / cold.seconds:.3f} of cold; of which starting Python: "
                f"{python.seconds:.2f}s"
            )
            print(f"ratio claudetop/ccusage: {cold.seconds / cc.seconds:.2f} (goal <= 1.0, limit 1.5)")
            print(f"  CPU ratio claudetop/ccusage: {cold.cpu_seconds / cc.cpu_seconds:.2f}")
            print(f"warm/cold: {warm.seconds / cold.seconds:.3f} (limit 0.10)")
            ours, theirs = _report_totals(cold.out), _ccusage_totals(cc.out)
            same = ours[:4] == theirs[:4] and _report_totals(warm.out) == ours
            print(
                f"token totals equal (cold, warm, ccusage): {same} "
                f"(claudetop {ours[:4]}, ccusage {theirs[:4]})"
            )
            print(f"cost: claudetop ${float(ours[4]):,.2f} vs ccusage ${theirs[4]:,.2f}")
    finally:
        if not args.keep and args.dir is None:
            shutil.rmtree(work, ignore_errors=True)
        elif args.keep:
            print(f"kept {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
