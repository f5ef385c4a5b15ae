"""Package attributes that load their module on first use (PEP 562), for packages whose light parts
should not pay for their heavy ones: ``import claudetop`` must not import the SDK hook, a report over
Claude Code transcripts must not import pydantic for the records it never builds."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def attributes(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports ``where[name]`` and takes ``name`` from it
    (remembered in the package, so each name is looked up once)."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(importlib.import_module(package), name, value)
        return value

    return __getattr__
