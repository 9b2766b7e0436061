"""The committed page (circuit_muse/service/static) is exactly what `npm ci && npm run build` makes from web/."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"


@pytest.mark.slow
def test_the_committed_build_matches_the_sources() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("Node.js and npm are needed to check the web build (Debian: apt-get install nodejs npm)")
    if not (WEB / "node_modules" / "esbuild").is_dir():
        # --ignore-scripts: esbuild's platform binary comes as an optional dependency; no install script runs
        subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=WEB, check=True,
                       capture_output=True, timeout=300)
    run = subprocess.run(["node", "build.mjs", "--check"], cwd=WEB, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "matches the sources" in run.stdout
    page = (ROOT / "circuit_muse" / "service" / "static" / "index.html").read_text()
    assert "/assets/app.js" in page and "http" not in page.replace("http-equiv", "")  # no CDN


def test_the_page_is_in_the_package() -> None:
    static = ROOT / "circuit_muse" / "service" / "static"
    js = (static / "assets" / "app.js").read_text()
    assert "WaveDrom" in js or "wavedrom" in js.lower()
    assert (static / "assets" / "app.css").stat().st_size > 1000
