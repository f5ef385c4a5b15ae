"""The default task tag: the innermost caller outside the SDK, found the same way on every call."""

from __future__ import annotations

import functools
import types
from typing import Any

from claudetop.hook.tags import call_site

# A stand-in for SDK code: functions of a module whose name starts with "anthropic" are skipped.
_SDK = types.ModuleType("anthropic._call_site_test")
exec(
    "def through(levels, fn):\n"
    "    return fn() if levels == 0 else through(levels - 1, fn)\n"
    "def other_entry(levels, fn):\n"
    "    return through(levels, fn)\n",
    _SDK.__dict__,
)
sdk: Any = _SDK


def first_caller() -> str | None:
    return sdk.through(6, call_site)  # type: ignore[no-any-return]


def second_caller() -> str | None:
    return sdk.through(6, call_site)  # type: ignore[no-any-return]


def deeper_caller() -> str | None:
    return sdk.through(9, call_site)  # type: ignore[no-any-return]


def through_other_entry() -> str | None:
    return sdk.other_entry(6, call_site)  # type: ignore[no-any-return]


def own_middleware() -> str | None:
    return sdk.through(3, call_site)  # type: ignore[no-any-return]


def app_with_its_own_middleware() -> str | None:
    """Application code the SDK calls back (a middleware of its own) is the innermost caller."""
    return sdk.through(2, own_middleware)  # type: ignore[no-any-return]


def test_each_caller_is_named_however_often_the_same_path_is_taken() -> None:
    for _ in range(3):
        assert first_caller() == f"{__name__}:first_caller"
        assert second_caller() == f"{__name__}:second_caller"
        assert deeper_caller() == f"{__name__}:deeper_caller"
        assert through_other_entry() == f"{__name__}:through_other_entry"


def test_the_innermost_application_frame_wins_over_one_further_out() -> None:
    for _ in range(3):
        first_caller()
        assert app_with_its_own_middleware() == f"{__name__}:own_middleware"


def test_no_site_within_the_depth_limit_is_none() -> None:
    assert sdk.through(30, functools.partial(call_site, max_depth=10)) is None
