"""Claude Code transcripts: each message once, final usage, 5m/1h split, subagents, bad lines.

Expected totals are worked out by hand from the fixture below; costs from Anthropic's published
per-million-token prices (https://docs.claude.com/en/docs/about-claude/pricing, Nov 2025):

| model            | input | output | 5m write | 1h write | cache read |
| claude-sonnet-4-5 | 3.00 | 15.00  | 3.75     | 6.00     | 0.30       |
| claude-haiku-4-5  | 1.00 | 5.00   | 1.25     | 2.00     | 0.10       |
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from claudetop.sources import CheckpointStore, ClaudeCodeSource, config_dirs, read_claude_code

PRICES = {  # USD per million tokens: input, output, 5m write, 1h write, read
    "claude-sonnet-4-5-20250929": (
        Decimal("3"),
        Decimal("15"),
        Decimal("3.75"),
        Decimal("6"),
        Decimal("0.30"),
    ),
    "claude-haiku-4-5-20251001": (Decimal("1"), Decimal("5"), Decimal("1.25"), Decimal("2"), Decimal("0.10")),
}
SONNET, HAIKU = "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"


def _micros(model: str, i: int, o: int, w5: int, w1: int, r: int) -> int:
    p = PRICES[model]
    return int(i * p[0] + o * p[1] + w5 * p[2] + w1 * p[3] + r * p[4])  # $/MTok x tokens = micro-dollars


def _assistant(mid: str, rid: str | None, model: str, usage: dict[str, Any], **extra: Any) -> str:
    line: dict[str, Any] = {
        "parentUuid": None,
        "isSidechain": False,
        "cwd": "/home/u/app",
        "sessionId": "S1",
        "version": "2.0.14",
        "type": "assistant",
        "message": {"id": mid, "type": "message", "role": "assistant", "model": model,
                    "content": [{"type": "text", "text": "x" * 200}], "usage": usage},
        "uuid": f"u-{mid}-{usage.get('output_tokens')}",
        "timestamp": "2025-11-03T10:00:00.000Z",
    }  # fmt: skip
    if rid is not None:
        line["requestId"] = rid
    line.update(extra)
    return json.dumps(line, separators=(",", ":"))


def _usage(i: int, o: int, cc: int, r: int, split: tuple[int, int] | None = None) -> dict[str, Any]:
    u: dict[str, Any] = {"input_tokens": i, "cache_creation_input_tokens": cc, "cache_read_input_tokens": r}
    if split is not None:
        u["cache_creation"] = {"ephemeral_5m_input_tokens": split[0], "ephemeral_1h_input_tokens": split[1]}
    u["output_tokens"] = o
    return u


def write_fixture(config: Path) -> None:
    project = config / "projects" / "-home-u-app"
    project.mkdir(parents=True)
    a = _usage(10, 5, 1000, 5000, (400, 600))
    main = [
        json.dumps(
            {
                "type": "user",
                "message": {"role": "user", "content": "hi"},
                "timestamp": "2025-11-03T09:59:00Z",
            }
        ),
        _assistant("msgA", "reqA", SONNET, a),
        _assistant("msgA", "reqA", SONNET, {**a, "output_tokens": 50}),
        _assistant("msgA", "reqA", SONNET, {**a, "output_tokens": 120}),
        _assistant("msgB", None, HAIKU, _usage(3, 40, 2000, 0)),  # no split: all 5m; no requestId
        _assistant("msgN", "reqN", SONNET, _usage(999_999, 1, 0, 0)).replace(
            '"requestId":"reqN"', '"requestId":null'
        ),
        '{"type":"assistant","message":{"usage":{"input_tokens":1,',  # garbage
        _assistant("msgS", "reqS", "<synthetic>", _usage(0, 0, 0, 0), isApiErrorMessage=True),
        _assistant("msgV", "reqV", SONNET, _usage(7, 7, 0, 0), version="abc"),  # not a semver: skipped
        _assistant("msgO", "reqO", SONNET, {"input_tokens": 5}),  # no output_tokens: skipped
        json.dumps(
            {  # subagent reply echoed as a progress line, before its final usage
                "type": "progress",
                "timestamp": "2025-11-03T10:00:01.000Z",
                "sessionId": "S1",
                "data": {
                    "type": "agent_progress",
                    "message": {
                        "type": "assistant",
                        "timestamp": "2025-11-03T10:00:01.000Z",
                        "requestId": "reqC",
                        "isSidechain": True,
                        "message": {"id": "msgC", "model": HAIKU, "usage": _usage(2, 30, 0, 3000)},
                    },
                },
            }
        ),
    ]
    (project / "S1.jsonl").write_text("\n".join(main) + "\n")
    sub = project / "S1" / "subagents"
    sub.mkdir(parents=True)
    side = [
        _assistant("msgC", "reqC", HAIKU, _usage(2, 10, 0, 3000), isSidechain=True),
        _assistant("msgC", "reqC", HAIKU, _usage(2, 70, 0, 3000), isSidechain=True),
        _assistant("msgA", "reqA-replay", SONNET, _usage(0, 1, 0, 50_000), isSidechain=True),  # /btw replay
    ]
    (sub / "agent-1.jsonl").write_text("\n".join(side) + "\n")


def _totals(events: list[Any]) -> tuple[int, int, int, int, int]:
    return (
        sum(e.input_tokens for e in events),
        sum(e.output_tokens for e in events),
        sum(e.cache_write_5m_tokens for e in events),
        sum(e.cache_write_1h_tokens for e in events),
        sum(e.cache_read_tokens for e in events),
    )


def test_fixture_totals_match_hand_computation(tmp_path: Path) -> None:
    write_fixture(tmp_path)
    events = read_claude_code([tmp_path])
    by_id = {e.id: e for e in events}
    assert set(by_id) == {"cc:msgA:reqA", "cc:msgB:", "cc:msgC:reqC", "cc:msgS:reqS"}
    # A: final streamed line (output 120), 400 5m + 600 1h writes; B: 2000 writes, all 5m; C: the subagent
    # file's final usage (70 output) beats the progress echo (30); the sidechain replay of A is dropped.
    assert _totals(events) == (10 + 3 + 2, 120 + 40 + 70, 400 + 2000, 600, 5000 + 3000)
    a, b, c = by_id["cc:msgA:reqA"], by_id["cc:msgB:"], by_id["cc:msgC:reqC"]
    assert a.cost_micros == _micros(SONNET, 10, 120, 400, 600, 5000) == 8430
    assert b.cost_micros == _micros(HAIKU, 3, 40, 2000, 0, 0)
    assert c.cost_micros == _micros(HAIKU, 2, 70, 0, 0, 3000)
    assert by_id["cc:msgS:reqS"].cost_micros is None  # <synthetic> is no model: unpriced, not $0
    assert a.project == "-home-u-app" and a.session == "S1" and a.source == "claude_code"
    assert a.ts.isoformat() == "2025-11-03T10:00:00+00:00"


def test_garbage_is_counted_with_its_line(tmp_path: Path) -> None:
    write_fixture(tmp_path)
    source = ClaudeCodeSource([tmp_path], settle_s=0)
    source.poll()
    assert source.health().garbage_lines == 1
    assert next(iter(source.garbage.recent)).startswith(f"{tmp_path / 'projects/-home-u-app/S1.jsonl'}:7: ")


def test_restart_from_checkpoint_is_exact_and_reads_only_new_lines(tmp_path: Path) -> None:
    config = tmp_path / "claude"
    write_fixture(config)
    store = CheckpointStore(tmp_path / "state")
    first = ClaudeCodeSource([config], checkpoints=store, settle_s=0)
    before = first.poll().events
    first.close()
    main = config / "projects" / "-home-u-app" / "S1.jsonl"
    with open(main, "a") as handle:
        handle.write(
            _assistant("msgA", "reqA", SONNET, _usage(10, 500, 1000, 5000, (400, 600))) + "\n"
        )  # late
        handle.write(_assistant("msgD", "reqD", HAIKU, _usage(1, 1, 0, 0)) + "\n")
    again = ClaudeCodeSource([config], checkpoints=store, settle_s=0)
    replayed = {e.id: e for e in again.poll().events}  # the history from the checkpoint, plus msgD
    assert set(replayed) == {e.id for e in before} | {"cc:msgD:reqD"}
    assert all(replayed[e.id] == e for e in before if e.id != "cc:msgA:reqA")
    # msgA's bigger copy arrived after the checkpoint: the restarted reader hands its history out
    # again, so it takes the final usage, as a cold read of the same files does
    assert replayed["cc:msgA:reqA"].output_tokens == 500 and again.dedupe.late_duplicates == 0
    cold = {e.id: e for e in ClaudeCodeSource([config], settle_s=0).poll().events}
    assert replayed == cold
    assert again.poll().events == []
    assert again.health().garbage_lines == first.health().garbage_lines == 1  # counted before the restart
    assert list(again.garbage.recent) == list(first.garbage.recent)


def test_a_message_emitted_in_this_process_is_not_retracted_by_a_later_bigger_copy(tmp_path: Path) -> None:
    config = tmp_path / "claude"
    write_fixture(config)
    source = ClaudeCodeSource([config], settle_s=0)
    first = {e.id: e for e in source.poll().events}
    main = config / "projects" / "-home-u-app" / "S1.jsonl"
    with open(main, "a") as handle:
        handle.write(_assistant("msgA", "reqA", SONNET, _usage(10, 500, 1000, 5000, (400, 600))) + "\n")
    assert source.poll().events == []
    assert source.dedupe.late_duplicates == 1 and first["cc:msgA:reqA"].output_tokens != 500


def test_live_file_waits_until_settled(tmp_path: Path) -> None:
    write_fixture(tmp_path)
    source = ClaudeCodeSource([tmp_path], settle_s=3600)
    assert source.poll().events == []
    old = 1_700_000_000
    for path in (tmp_path / "projects").rglob("*.jsonl"):
        os.utime(path, (old, old))
    assert len(source.poll().events) == 4


def test_config_dirs_env_and_defaults(tmp_path: Path) -> None:
    a, b, home = tmp_path / "a", tmp_path / "b", tmp_path / "home"
    for d in (
        a / "projects",
        b / "projects",
        home / ".claude" / "projects",
        home / ".config" / "claude" / "projects",
    ):
        d.mkdir(parents=True)
    env = {"CLAUDE_CONFIG_DIR": f"{a}, {b / 'projects'},{tmp_path / 'missing'}"}
    assert config_dirs(env, home) == [a, b]
    assert config_dirs({}, home) == [home / ".config" / "claude", home / ".claude"]


def test_fast_mode_messages_are_priced_at_fast_mode_rates(tmp_path: Path) -> None:
    """``/fast`` writes ``usage.speed = "fast"``: Opus 4.6 fast mode is $30 / $150 per MTok, six times
    standard on every token kind (https://platform.claude.com/docs/en/about-claude/pricing#fast-mode-pricing)."""
    project = tmp_path / "projects" / "-home-u-app"
    project.mkdir(parents=True)
    opus = "claude-opus-4-6"
    usage = _usage(100, 2000, 3000, 40_000, (1000, 2000))
    lines = [
        _assistant("msgF", "reqF", opus, {**usage, "speed": "fast"}),
        _assistant("msgT", "reqT", opus, {**usage, "speed": "standard"}),
    ]
    (project / "S2.jsonl").write_text("\n".join(lines) + "\n")
    by_id = {e.id: e for e in read_claude_code([tmp_path])}
    fast, standard = by_id["cc:msgF:reqF"], by_id["cc:msgT:reqT"]
    # standard: 100 x 5 + 2000 x 25 + 1000 x 6.25 + 2000 x 10 + 40000 x 0.50 = 96,750 micro-dollars
    assert standard.cost_micros == 100 * 5 + 2000 * 25 + 1000 * 6.25 + 2000 * 10 + 40_000 * 0.5 == 96_750
    assert fast.cost_micros == 100 * 30 + 2000 * 150 + 1000 * 37.5 + 2000 * 60 + 40_000 * 3 == 580_500
    assert (fast.speed, standard.speed) == ("fast", None)


def test_after_a_restart_the_history_of_a_deleted_transcript_is_delivered_at_once(tmp_path: Path) -> None:
    config = tmp_path / "claude"
    write_fixture(config)
    store = CheckpointStore(tmp_path / "state")
    first = ClaudeCodeSource([config], checkpoints=store, settle_s=0)
    first.poll()
    first.close()
    by_file: dict[str, set[str]] = {}
    for entry in first.dedupe.entries:
        by_file.setdefault(first.follower.files[entry.file_key].path, set()).add(entry.event_id)
    gone = next(p for p in by_file if "subagents" in p)
    assert by_file[gone] and len(by_file) > 1
    Path(gone).unlink()
    again = ClaudeCodeSource([config], checkpoints=store, settle_s=3600)  # every other file is fresh
    assert {e.id for e in again.poll().events} == by_file[gone]


def test_a_usage_line_ending_the_file_without_a_newline_counts_once_complete(tmp_path: Path) -> None:
    transcript = tmp_path / "projects" / "-home-u-app" / "S1.jsonl"
    transcript.parent.mkdir(parents=True)
    done = _assistant("msgA", "reqA", HAIKU, _usage(1, 2, 0, 0))
    being_written = _assistant("msgB", "reqB", HAIKU, _usage(3, 4, 0, 0))
    transcript.write_text(done + "\n" + being_written[:-30])
    source = ClaudeCodeSource([tmp_path], settle_s=0)
    assert [e.id for e in source.poll().events] == ["cc:msgA:reqA"]
    assert source.health().garbage_lines == 0  # half a line is not garbage: its rest is on the way
    with open(transcript, "a") as handle:
        handle.write(being_written[-30:])  # complete, but (like a copied transcript) no newline
    assert [(e.id, e.output_tokens) for e in source.poll().events] == [("cc:msgB:reqB", 4)]
    with open(transcript, "a") as handle:
        handle.write("\n" + _assistant("msgC", "reqC", HAIKU, _usage(5, 6, 0, 0)) + "\n")
    assert [e.id for e in source.poll().events] == ["cc:msgC:reqC"]
    assert source.progress.snapshot().complete and source.health().garbage_lines == 0


def test_web_searches_and_us_only_inference_are_billed_as_the_api_bills_them(tmp_path: Path) -> None:
    """Sonnet 4.6 at $3/$15 per MTok, US-only inference at 1.1x on every token kind, web searches at
    $10 per 1,000 (https://platform.claude.com/docs/en/about-claude/pricing): 1,000 input and 100 output
    tokens are 4,500 micro-dollars, 4,950 US-only, plus 3 searches at 10,000 each."""
    transcript = tmp_path / "projects" / "-home-u-app" / "S1.jsonl"
    transcript.parent.mkdir(parents=True)
    usage = _usage(1000, 100, 0, 0) | {"server_tool_use": {"web_search_requests": 3, "web_fetch_requests": 1}}
    lines = [
        _assistant("msgUS", "reqUS", "claude-sonnet-4-6", usage | {"inference_geo": "us"}),
        _assistant("msgGlobal", "reqGlobal", "claude-sonnet-4-6", usage | {"inference_geo": "global"}),
    ]
    transcript.write_text("\n".join(lines) + "\n")
    events = {e.id: e for e in ClaudeCodeSource([tmp_path], settle_s=0).poll().events}
    assert events["cc:msgUS:reqUS"].cost_micros == 4_950 + 3 * 10_000
    assert events["cc:msgGlobal:reqGlobal"].cost_micros == 4_500 + 3 * 10_000
    assert events["cc:msgUS:reqUS"].web_search_requests == 3
