from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Budget alert state goes to a temporary dir, never the user's."""
    monkeypatch.setenv("CLAUDETOP_STATE_DIR", str(tmp_path / "state"))
