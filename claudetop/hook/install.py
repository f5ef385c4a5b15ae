"""Adding the hook to a client: ``instrument(client)`` and ``instrument_all()``.

``instrument(client)`` returns ``client.with_middleware(...)``: a **new** client object of the same
type sharing the original's connection pool; the client passed in is left unchanged, so use the
returned one. Calling it on an already instrumented client returns that client as it is. With
``CLAUDETOP_DISABLE=1`` (or ``disabled = true`` in the config) it returns the client untouched.

Config (``claudetop.config.load_config``) is read once per process, on first use. A broken config
does not break the application: claudetop says so once on stderr and uses the defaults.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from claudetop._warn import warn_once
from claudetop.config import Config, ConfigError, load_config, sink_target
from claudetop.hook import _sdk_patch
from claudetop.hook.assemble import Pricer
from claudetop.hook.middleware import ClaudetopMiddleware, EngineSlot, PolicyEngine
from claudetop.hook.writer import HookStats, Writer

ClientT = TypeVar("ClientT")

_TRUE = {"1", "true", "yes", "on"}

_lock = threading.Lock()
_writers: dict[str, Writer] = {}
_config: Config | None = None


def _load_config() -> Config:
    global _config
    if _config is None:
        try:
            _config = load_config()
        except (ConfigError, OSError) as err:
            warn_once("config", f"{err}; recording with default settings")
            _config = Config()
    return _config


def _disabled_by_env() -> bool:
    return os.environ.get("CLAUDETOP_DISABLE", "").strip().lower() in _TRUE


def _pricer_factory(config: Config) -> Pricer | None:
    from claudetop.pricing import PriceBook

    return PriceBook.from_overrides(**dataclasses.asdict(config.pricing)).cost


def writer_for(target: str, config: Config, app: str | None) -> Writer:
    """The process's writer for a sink target (one thread per distinct sink)."""
    key = str(Path(target).expanduser()) if "://" not in target else target
    with _lock:
        writer = _writers.get(key)
        if writer is None:
            writer = _writers[key] = Writer(key, app or config.app, lambda: _pricer_factory(config))
        return writer


def _engine_slot(target: str, config: Config, writer: Writer) -> EngineSlot:
    """A slot the policy engine fills in from a background thread (opening the store may wait on locks)."""
    slot = EngineSlot()

    def build() -> None:
        try:
            from claudetop.policies import PolicyEngine as Engine
            from claudetop.policies import PolicyStore

            slot.engine = Engine(PolicyStore(target, config=config), config)
        except Exception as err:
            writer.last_error = f"policies unavailable for {target}: {type(err).__name__}: {err}"
        finally:
            _unbuilt.pop(slot, None)

    _unbuilt[slot] = build
    _build(build)
    return slot


def _build(build: Callable[[], None]) -> None:
    threading.Thread(target=build, name="claudetop-policies", daemon=True).start()


_unbuilt: dict[EngineSlot, Callable[[], None]] = {}
"""Engines still being built (each leaves when its build ends): a child forked meanwhile has no thread
building them, so it starts its own."""


def make_middleware(
    *,
    sink: str | Path | None = None,
    app: str | None = None,
    config: Config | None = None,
    policies: bool | PolicyEngine = True,
    clock: Callable[[], float] | None = None,
) -> ClaudetopMiddleware:
    """The middleware ``instrument`` adds; for building clients yourself (``middleware=[...]``)."""
    config = config or _load_config()
    target = str(sink) if sink is not None else sink_target(config)
    writer = writer_for(target, config, app)
    if policies is True:
        slot = _engine_slot(target, config, writer) if not target.endswith(".jsonl") else EngineSlot()
    else:
        slot = EngineSlot()
        slot.engine = policies or None
    return ClaudetopMiddleware(writer, config.default_task, slot, clock or time.time)


def is_instrumented(client: Any) -> bool:
    return any(isinstance(m, ClaudetopMiddleware) for m in getattr(client, "middleware", ()))


def instrument(
    client: ClientT,
    *,
    sink: str | Path | None = None,
    app: str | None = None,
    config: Config | None = None,
    policies: bool | PolicyEngine = True,
    clock: Callable[[], float] | None = None,
) -> ClientT:
    """A copy of ``client`` whose every API call is recorded to the sink (see the module doc).

    ``policies``: ``True`` follows the policy table in a SQLite sink (what the monitor toggles),
    ``False`` never touches requests, or pass an engine of your own. ``clock``: POSIX seconds that
    date the events (default ``time.time``); a simulation passes its simulated clock's ``now``.
    """
    if _disabled_by_env():
        return client
    try:
        config = config or _load_config()
        if config.disabled or is_instrumented(client):
            return client
        middleware = make_middleware(sink=sink, app=app, config=config, policies=policies, clock=clock)
        instrumented: ClientT = client.with_middleware(middleware)  # type: ignore[attr-defined]
        return instrumented
    except Exception as err:
        warn_once(
            "instrument", f"could not instrument the client ({type(err).__name__}: {err}); not recording"
        )
        return client


def instrument_all(
    *,
    sink: str | Path | None = None,
    app: str | None = None,
    config: Config | None = None,
    clock: Callable[[], float] | None = None,
) -> None:
    """Record every client constructed from now on, wherever it is built (sync, async, Bedrock, Vertex).

    Clients that exist already are not affected; instrument those with ``instrument``.
    """
    if _disabled_by_env():
        return
    try:
        config = config or _load_config()
        if config.disabled:
            return
        shared = make_middleware(sink=sink, app=app, config=config, clock=clock)
        _sdk_patch.patch_constructors(lambda cls: shared)
    except Exception as err:
        warn_once(
            "instrument_all", f"could not instrument clients ({type(err).__name__}: {err}); not recording"
        )


def uninstrument_all() -> None:
    """Stop adding the hook to new clients (clients built meanwhile keep it)."""
    _sdk_patch.unpatch_constructors()


def stats() -> list[HookStats]:
    """One entry per sink this process writes to: events captured, written, dropped, errors."""
    with _lock:
        return [w.stats() for w in _writers.values()]


def flush(timeout: float = 5.0) -> bool:
    """Write everything captured so far; True when every sink took it within ``timeout`` seconds."""
    with _lock:
        writers = list(_writers.values())
    return all(w.flush(timeout) for w in writers)


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()
    for build in list(_unbuilt.values()):
        _build(build)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
