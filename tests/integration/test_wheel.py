"""The built wheel carries its data: installed in a fresh venv, it loads the sample config and every theme.

Offline: the wheel is built without build isolation (hatchling comes from the test extras) and
installed with ``--no-deps``; the fresh venv sees the dependencies through a ``.pth`` line
pointing at this environment's site-packages, after its own, so ``claudetop`` itself can only
come from the wheel.
"""

from __future__ import annotations

import json
import site
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

CHECK = """
import json, sys, tempfile, tomllib
from pathlib import Path
import claudetop, claudetop.config as c
sample = c.sample_config_text()
with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "config.toml"
    path.write_text(sample)
    loaded = c.load_config(path, env={})
themes = c.theme_texts()
print(json.dumps({
    "package": claudetop.__file__,
    "sample_is_default": loaded == c.Config() == c.config_from_text(sample),
    "themes": {name: sorted(tomllib.loads(text)) for name, text in themes.items()},
}))
"""


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_wheel_installs_and_loads_its_data_files(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("claudetop-*.whl")

    env_dir = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    fresh_site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    ours = {sysconfig.get_paths()["purelib"], *site.getsitepackages()}
    (fresh_site / "zz_outer_deps.pth").write_text("\n".join(sorted(ours)) + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    subprocess.run([*pip, "install", "--no-deps", "--no-index", str(wheel)], check=True, capture_output=True)

    out = subprocess.run([str(python), "-c", CHECK], check=True, capture_output=True, text=True, cwd=tmp_path)
    result = json.loads(out.stdout)
    assert Path(result["package"]).is_relative_to(fresh_site)
    assert result["sample_is_default"] is True
    shipped = sorted(p.stem for p in (REPO / "claudetop" / "data" / "themes").glob("*.toml"))
    assert sorted(result["themes"]) == shipped
    assert all(result["themes"].values()), "every theme file parses to a non-empty table"

    version = subprocess.run(
        [str(env_dir / "bin" / "claudetop"), "--version"], check=True, capture_output=True, text=True
    )
    assert version.stdout.startswith("claudetop ")
