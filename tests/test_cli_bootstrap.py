"""scripts/bootstrap.sh refuses an interpreter older than 3.11 with one clear line and exit 2 (before touching
any venv), and accepts 3.12 and 3.13 (the version check is the script's, not an assert inside Python)."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _fake_python(folder: Path, version: tuple[int, int]) -> Path:
    """A stand-in interpreter that answers the script's version probe as Python `version` would."""
    exe = folder / f"python{version[0]}.{version[1]}"
    ok = 0 if version >= (3, 11) else 1
    exe.write_text(f"#!/bin/sh\nif [ \"$1\" = -V ]; then echo 'Python {version[0]}.{version[1]}.0'; exit 0; fi\nexit {ok}\n")
    exe.chmod(0o755)
    return exe


def _bootstrap(tmp_path: Path, python: Path) -> subprocess.CompletedProcess[str]:
    work = tmp_path / "checkout"
    (work / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "bootstrap.sh", work / "scripts" / "bootstrap.sh")
    env = dict(os.environ, PYTHON=str(python))
    return subprocess.run(["bash", "scripts/bootstrap.sh"], cwd=work, capture_output=True, text=True, timeout=120,
                          env=env)


def test_old_python_is_refused_in_one_line(tmp_path: Path) -> None:
    res = _bootstrap(tmp_path, _fake_python(tmp_path, (3, 10)))
    assert res.returncode == 2
    err = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(err) == 1 and "needs Python 3.11 or newer" in err[0] and "3.10" in err[0]
    assert "Traceback" not in res.stderr and not (tmp_path / "checkout" / ".venv").exists()


def test_python_312_passes_the_version_check(tmp_path: Path) -> None:
    res = _bootstrap(tmp_path, _fake_python(tmp_path, (3, 12)))
    # the fake cannot make a venv: the script must get past the version check and fail at venv creation, clearly
    assert "needs Python 3.11" not in res.stderr
    assert "creating .venv with Python 3.12.0" in res.stdout
    assert res.returncode == 2 and "venv" in res.stderr and "Traceback" not in res.stderr
