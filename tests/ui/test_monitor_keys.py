"""Every key and action of the monitor, driven through Textual's pilot.

Policy toggles write a real policy store in a real SQLite sink (tmp_path) and are checked in its
audit trail; the snapshot shown is fixed, so what changes on screen is the UI's own doing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from claudetop.config import Config
from claudetop.model import PolicyMode, PolicyName, UsageEvent
from claudetop.policies import PolicyStore
from claudetop.sinks import SQLiteSink
from claudetop.ui import MonitorApp
from claudetop.ui.app import DELAYS_S
from claudetop.ui.panels import PoliciesPanel, RequestsPanel
from claudetop.ui.widgets.confirm import ConfirmScreen
from claudetop.ui.widgets.help import HelpScreen
from tests.ui.fixed_snapshot import fixed_snapshot
from tests.ui.screen_text import screen_text
from tests.ui.static_feed import StaticFeed


@pytest.fixture
def store(tmp_path: Path) -> Iterator[PolicyStore]:
    s = PolicyStore(tmp_path / "events.db", config=Config())
    yield s
    s.close()


def _app(store: PolicyStore | None = None, **kwargs: object) -> MonitorApp:
    return MonitorApp(StaticFeed(fixed_snapshot()), policies=store, **kwargs)  # type: ignore[arg-type]


async def test_c_cycles_caching_off_shadow_enforce_with_confirmation(store: PolicyStore) -> None:
    app = _app(store, actor="tester@host")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c")
        await pilot.pause()
        assert store.current().mode(PolicyName.CACHE) is PolicyMode.SHADOW
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert store.current().mode(PolicyName.CACHE) is PolicyMode.SHADOW, "enforce must wait for the answer"
        await pilot.press("y")
        await pilot.pause()
        assert store.current().mode(PolicyName.CACHE) is PolicyMode.ENFORCE
        assert "enforce" in screen_text(app).split("cache", 1)[1].splitlines()[0]
        await pilot.press("c")
        await pilot.pause()
    assert store.current().mode(PolicyName.CACHE) is PolicyMode.OFF
    trail = [(c.name, c.from_mode, c.to_mode, c.by) for c in reversed(store.audit())]
    assert trail == [
        (PolicyName.CACHE, PolicyMode.OFF, PolicyMode.SHADOW, "tester@host"),
        (PolicyName.CACHE, PolicyMode.SHADOW, PolicyMode.ENFORCE, "tester@host"),
        (PolicyName.CACHE, PolicyMode.ENFORCE, PolicyMode.OFF, "tester@host"),
    ]


async def test_declining_enforce_changes_nothing(store: PolicyStore) -> None:
    app = _app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("b")  # fixture shows batching already enforced → off
        await pilot.press("o", "o")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
    assert store.current().mode(PolicyName.OUTPUT_CAPS) is PolicyMode.SHADOW
    assert store.current().mode(PolicyName.BATCHING) is PolicyMode.OFF
    assert [c.to_mode for c in store.audit()] == [PolicyMode.SHADOW, PolicyMode.OFF]


async def test_routing_enforce_refusal_is_shown_in_place(tmp_path: Path, store: PolicyStore) -> None:
    with SQLiteSink(tmp_path / "events.db") as sink:  # an unvalidated task served above its tier
        sink.write_events(
            [
                UsageEvent(
                    id="e1",
                    ts=datetime.now(UTC),
                    task="extraction",
                    model="claude-sonnet-4-6",
                    input_tokens=10,
                )
            ]
        )
    app = _app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m")  # fixture shows routing in shadow → enforce
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        routing_line = next(line for line in screen_text(app).splitlines() if "routing" in line)
    assert "refused" in routing_line
    assert store.current().mode(PolicyName.ROUTING) is PolicyMode.OFF
    assert store.audit() == []


async def test_toggle_without_a_policy_store_says_read_only() -> None:
    app = _app(None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c")
        await pilot.pause()
        assert "read-only" in screen_text(app)


@pytest.mark.parametrize(
    ("key", "panel"),
    list(zip("123456", ["cache", "models", "batches", "projection", "findings", "requests"], strict=True)),
)
async def test_number_keys_zoom_a_panel_and_back(key: str, panel: str) -> None:
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(key)
        await pilot.pause()
        shown = [
            w.id for w in app.query(".panel") if w.display and w.id != "policies" and w.region.height > 0
        ]
        assert shown == [panel]
        assert app.query_one(f"#{panel}").region.height >= 10
        await pilot.press(key)
        await pilot.pause()
        assert app.zoomed is None
        assert not app.screen.has_class("-zoomed")


async def test_zoomed_projection_draws_the_month_chart() -> None:
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await pilot.pause()
        text = screen_text(app)
    assert "█" in text and "with all policies" in text


async def test_slash_filters_live_requests() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("slash")
        await pilot.press(*"haiku")
        await pilot.press("enter")
        await pilot.pause()
        table = app.query_one(RequestsPanel).query_one("DataTable")
        expected = sum(1 for r in fixed_snapshot().live if "haiku" in (r.model or ""))
        assert table.row_count == expected  # type: ignore[attr-defined]
        await pilot.press("slash", "escape")
        await pilot.pause()
        assert table.row_count == len(fixed_snapshot().live)  # type: ignore[attr-defined]


async def test_slash_filters_live_requests_by_app() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("slash", *"billing", "enter")
        await pilot.pause()
        table = app.query_one(RequestsPanel).query_one("DataTable")
        expected = sum(1 for r in fixed_snapshot().live if r.app == "billing-api")
        assert 0 < expected < len(fixed_snapshot().live)
        assert table.row_count == expected  # type: ignore[attr-defined]
        assert "billing-api" in screen_text(app)


async def test_pause_freezes_the_screen_and_resume_catches_up() -> None:
    feed = StaticFeed(fixed_snapshot())
    app = MonitorApp(feed)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        shown = app.snapshots_shown
        await pilot.press("p")
        feed.refresh_now()
        await pilot.pause()
        assert app.paused and app.snapshots_shown == shown
        await pilot.press("space")
        await pilot.pause()
        assert not app.paused and app.snapshots_shown == shown + 1


async def test_r_asks_the_feed_for_a_refresh() -> None:
    feed = StaticFeed(fixed_snapshot())
    app = MonitorApp(feed)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        await pilot.pause()
    assert feed.refreshes == 1


async def test_plus_and_minus_step_the_refresh_interval() -> None:
    feed = StaticFeed(fixed_snapshot(), interval_s=1.0)
    app = MonitorApp(feed)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("plus")
        assert feed.interval_s == DELAYS_S[DELAYS_S.index(1.0) - 1]
        await pilot.press("minus", "minus")
        assert feed.interval_s == DELAYS_S[DELAYS_S.index(1.0) + 1]


async def test_t_cycles_every_theme() -> None:
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        seen = [app.theme]
        for _ in range(4):
            await pilot.press("t")
            seen.append(app.theme)
    assert seen == ["dark", "light", "ansi", "high-contrast", "dark"]


async def test_help_lists_every_action_with_remapped_keys() -> None:
    from claudetop.ui.keys import ACTIONS

    app = _app(keymap={"toggle_cache": "f2", "help": "f1"})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")  # no longer bound
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for action in ACTIONS:
            assert action.description in text
        assert "f2" in text
        await pilot.press("escape")
        await pilot.press("c")  # unbound now: nothing happens, f2 toggles
        await pilot.pause()
        assert app.query_one(PoliciesPanel).notices == {}
        await pilot.press("f2")
        await pilot.pause()
        assert "read-only" in screen_text(app)


async def test_help_shows_keys_as_typed_and_every_name_apart_from_its_help() -> None:
    from claudetop.ui.keys import ACTIONS

    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        text = screen_text(app)
    for action in ACTIONS:
        assert re.search(rf"{re.escape(action.description)} {{2,}}{re.escape(action.help[:20])}", text), (
            action.id
        )
    assert "slash" not in text and "plus" not in text
    assert "  /  Filter" in text and "  +  Faster" in text


async def test_ctrl_p_palette_runs_any_action() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"next colour theme")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.theme == "light"


async def test_q_quits() -> None:
    feed = StaticFeed(fixed_snapshot())
    app = MonitorApp(feed)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert feed.stopped
    assert app.return_code in (None, 0)


async def test_requests_hidden_at_80x24_are_filled_when_zoomed() -> None:
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("6")
        await pilot.pause()
        table = app.query_one(RequestsPanel).query_one("DataTable")
        assert table.row_count == len(fixed_snapshot().live)  # type: ignore[attr-defined]
        assert "billing-api" in screen_text(app)
