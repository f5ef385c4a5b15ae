"""The one place claudetop reaches past the SDK's public API: making ``instrument_all()`` work.

``instrument_all()`` must reach clients built in code the application does not own, so it wraps
``__init__`` of the SDK's client classes to append claudetop's middleware to the ``middleware=``
argument — itself public. What is monkeypatched is only *where* that argument is supplied.
``tests/unit/hook/test_sdk_patch_contract.py`` fails loudly if a client class loses its
``middleware`` parameter or ``with_middleware``.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from typing import Any

CLIENT_CLASSES: tuple[tuple[str, str], ...] = (
    ("anthropic", "Anthropic"),
    ("anthropic", "AsyncAnthropic"),
    ("anthropic.lib.bedrock", "AnthropicBedrock"),
    ("anthropic.lib.bedrock", "AsyncAnthropicBedrock"),
    ("anthropic.lib.vertex", "AnthropicVertex"),
    ("anthropic.lib.vertex", "AsyncAnthropicVertex"),
)

_PATCHED = "__claudetop_patched__"


def client_classes() -> list[type[Any]]:
    """The SDK client classes present in this install (Bedrock/Vertex may fail to import)."""
    found: list[type[Any]] = []
    for module_name, name in CLIENT_CLASSES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        cls = getattr(module, name, None)
        if isinstance(cls, type):
            found.append(cls)
    return found


def patch_constructors(middleware_for: Callable[[type[Any]], object | None]) -> list[type[Any]]:
    """Make every client class append ``middleware_for(cls)`` to the middleware it is built with.

    Idempotent. Clients that already carry a claudetop middleware (``instrument()``, or copies made
    with ``with_options``/``copy``, which pass the existing middleware back in) are left alone by
    ``middleware_for`` returning ``None``.
    """
    patched: list[type[Any]] = []
    for cls in client_classes():
        init = cls.__init__
        if getattr(init, _PATCHED, False):
            continue
        if "middleware" not in inspect.signature(init).parameters:
            raise RuntimeError(
                f"{cls.__module__}.{cls.__name__}.__init__ has no `middleware` parameter any more"
            )
        patched.append(cls)
        cls.__init__ = _wrap(cls, init, middleware_for)
    return patched


def _wrap(
    cls: type[Any], init: Callable[..., None], middleware_for: Callable[[type[Any]], object | None]
) -> Any:
    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        extra = middleware_for(cls)
        if extra is not None:
            current = list(kwargs.get("middleware") or ())
            if not any(type(m) is type(extra) for m in current):
                kwargs["middleware"] = [*current, extra]
        init(self, *args, **kwargs)

    setattr(__init__, _PATCHED, True)
    return __init__


def unpatch_constructors() -> None:
    """Undo ``patch_constructors`` (tests, and ``instrument_all(False)``)."""
    for cls in client_classes():
        init = cls.__init__
        if getattr(init, _PATCHED, False):
            cls.__init__ = init.__wrapped__
