"""Task tags: which piece of the application a call belongs to.

Tags live in a ``ContextVar`` so they follow ``asyncio`` tasks and threads started with a copied
context, and never leak between concurrent requests. A call without a tag falls back to the
config's ``default_task`` or, failing that, to its call site (``module:function`` of the first
frame outside the SDK and claudetop), which is found by a short frame walk — no ``inspect.stack()``.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Coroutine
from contextvars import ContextVar, Token
from types import CodeType, FrameType, TracebackType
from typing import Any, ParamSpec, TypeVar, cast

_current: ContextVar[str | None] = ContextVar("claudetop_task", default=None)

TASK_HEADER = "x-claudetop-task"
"""A per-call tag: ``extra_headers={TASK_HEADER: "extraction"}``; the hook removes it before sending."""

_P = ParamSpec("_P")
_R = TypeVar("_R")

_INTERNAL_PREFIXES = (
    "anthropic",
    "claudetop",
    "httpx",
    "httpx2",
    "httpcore",
    "asyncio",
    "contextlib",
    "anyio",
)


def current_task() -> str | None:
    """The tag set by the innermost enclosing ``task(...)``, if any."""
    return _current.get()


class task:
    """Tag every Claude call made inside it: a context manager and a decorator (sync or async).

    Nesting works as expected: the innermost tag wins and the outer one is restored on exit.
    """

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"a task tag must be a non-empty string, got {name!r}")
        self.name = name.strip()
        self._tokens: list[Token[str | None]] = []

    def __enter__(self) -> task:
        self._tokens.append(_current.set(self.name))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        _current.reset(self._tokens.pop())

    def __call__(self, func: Callable[_P, _R]) -> Callable[_P, _R]:
        name = self.name
        if inspect.iscoroutinefunction(func):
            async_func = cast(Callable[_P, Coroutine[Any, Any, Any]], func)

            @functools.wraps(func)
            async def run_async(*args: _P.args, **kwargs: _P.kwargs) -> Any:
                token = _current.set(name)
                try:
                    return await async_func(*args, **kwargs)
                finally:
                    _current.reset(token)

            return cast(Callable[_P, _R], run_async)

        @functools.wraps(func)
        def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            token = _current.set(name)
            try:
                return func(*args, **kwargs)
            finally:
                _current.reset(token)

        return run


_site_cache: dict[object, str] = {}
_paths: tuple[tuple[int, CodeType], ...] = ()
"""Depths at which recent calls found their site, each with the code of the frame just below it;
a tuple, replaced whole, so threads read it without a lock."""
_MAX_PATHS = 8


def _site_of(frame: FrameType) -> str:
    """``module:function`` of a frame, or ``""`` for the SDK, claudetop and the HTTP stack."""
    code = frame.f_code
    site = _site_cache.get(code)
    if site is None:
        module = frame.f_globals.get("__name__", "?")
        internal = isinstance(module, str) and module.split(".", 1)[0] in _INTERNAL_PREFIXES
        site = _site_cache[code] = "" if internal else f"{module}:{code.co_name}"
    return site


def call_site(max_depth: int = 80) -> str | None:
    """``module:function`` of the innermost frame that is not the SDK, claudetop or the HTTP stack.

    Walking the stack turns every frame on the way into a frame object, a dozen per call. A call
    that comes the way a recent one came (the same depth, the same SDK function just below) is
    answered by looking at those two frames alone. The frames in between are the SDK's own, as on
    the earlier call: an application frame there (a middleware of its own) moves the depth or the
    function below, since the SDK's call chain does not recurse.
    """
    global _paths
    for depth, entry in _paths:
        try:
            if sys._getframe(depth).f_code is entry and (site := _site_of(sys._getframe(depth + 1))):
                return site
        except ValueError:
            continue
    below: FrameType | None = None
    frame: FrameType | None = sys._getframe(1)
    depth = 1
    while frame is not None and depth < max_depth:
        if site := _site_of(frame):
            if below is not None:
                _paths = ((depth - 1, below.f_code), *_paths)[:_MAX_PATHS]
            return site
        below, frame = frame, frame.f_back
        depth += 1
    return None
