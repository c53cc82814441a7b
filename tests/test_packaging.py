"""The wheel installs everything under the one import package ``nextdrop``, nothing generic at top level."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_has_one_top_level_package(tmp_path: Path) -> None:
    had_build_dir = (ROOT / "build").exists()
    try:
        subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
                        "-q", "-w", str(tmp_path)], check=True, capture_output=True)
    finally:
        if not had_build_dir:  # setuptools builds in the source tree; leave it as we found it
            shutil.rmtree(ROOT / "build", ignore_errors=True)
    (wheel,) = tmp_path.glob("nextdrop-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"nextdrop"}
    for module in ("__init__.py", "cli.py", "store/ingest.py", "store/workspace.py", "index/__init__.py",
                   "tools/__init__.py", "agent/__init__.py", "prompts/__init__.py", "tools/planning/__init__.py",
                   "tools/forecasting/__init__.py", "tools/dedup/__init__.py", "tools/backtests/__init__.py",
                   "render/__init__.py", "render/templates/base.html", "render/templates/plan.html",
                   "render/templates/dedup.html"):
        assert f"nextdrop/{module}" in names
    assert "nextdrop/index/decision.json" in names  # the learned cross-source decision, never downloaded
    assert not any(n.startswith("nextdrop/tests/") or n.startswith("nextdrop/bench/") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "nextdrop = nextdrop.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
