"""The hook stays light to import, and the one SDK patch point it relies on still exists."""

import subprocess
import sys

import anthropic
import pytest

from claudetop.hook import ClaudetopMiddleware, _sdk_patch, instrument_all, uninstrument_all


def test_importing_the_hook_does_not_import_textual_or_aiosqlite() -> None:
    code = (
        "import sys, claudetop, claudetop.hook; claudetop.instrument;"
        "print(sorted({'textual', 'aiosqlite'} & {m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_client_class_still_takes_middleware() -> None:
    classes = _sdk_patch.client_classes()
    assert {c.__name__ for c in classes} >= {"Anthropic", "AsyncAnthropic"}
    for cls in classes:
        assert "middleware" in __import__("inspect").signature(cls.__init__).parameters, cls
        assert callable(getattr(cls, "with_middleware", None)), cls


def test_instrument_all_reaches_clients_built_elsewhere(tmp_path: object) -> None:
    instrument_all(sink=f"{tmp_path}/events.db")
    try:
        sync_client = anthropic.Anthropic(api_key="k", base_url="http://127.0.0.1:9")
        async_client = anthropic.AsyncAnthropic(api_key="k", base_url="http://127.0.0.1:9")
        copied = sync_client.with_options(timeout=3)
    finally:
        uninstrument_all()
    for client in (sync_client, async_client, copied):
        assert sum(isinstance(m, ClaudetopMiddleware) for m in client.middleware) == 1
    assert not anthropic.Anthropic(api_key="k").middleware


def test_patch_fails_loudly_when_the_sdk_drops_the_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    class Changed:
        def __init__(self, api_key: str) -> None:
            self.api_key = api_key

    monkeypatch.setattr(_sdk_patch, "client_classes", lambda: [Changed])
    with pytest.raises(RuntimeError, match="no `middleware` parameter"):
        _sdk_patch.patch_constructors(lambda cls: None)
