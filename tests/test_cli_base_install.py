"""The base install (no [hf] extra): verify and the OpenAI backend work with torch & co. impossible to import,
and commands that need the extra say which one in one line."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Run the CLI in a child whose import system refuses every package that only the [hf]/[train] extras bring.
_NO_EXTRAS = """
import sys
BLOCKED = {"torch", "transformers", "peft", "accelerate", "bitsandbytes", "tokenizers", "safetensors"}
class NoExtras:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, NoExtras())
"""
_BLOCKED_CLI = _NO_EXTRAS + """
from circuit_muse.cli import main
rc = main(sys.argv[1:])
loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
print("LOADED_EXTRAS=" + ",".join(loaded), file=sys.stderr)
sys.exit(rc)
"""


def cli_without_extras(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _BLOCKED_CLI, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.simulator
def test_verify_never_imports_torch() -> None:
    res = cli_without_extras("verify", "examples/counter.v", "--reference", "examples/counter_ref.v")
    assert res.returncode == 0, res.stderr
    assert "PASS" in res.stdout
    assert "LOADED_EXTRAS=\n" in res.stderr


def test_openai_backend_needs_no_torch() -> None:
    code = _NO_EXTRAS + ("from circuit_muse.models.registry import get_model\n"
                         "print(type(get_model('openai:http://127.0.0.1:9/v1#m')).__name__)\n")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "OpenAI" in res.stdout


def test_train_dry_run_without_the_hf_extra_names_the_extra() -> None:
    res = cli_without_extras("train", "--config", "circuit_muse/train/configs/default.toml", "--dry-run")
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert 'pip install "circuit-muse[hf]"' in res.stderr
    assert res.stderr.count("circuit-muse:") == 1
