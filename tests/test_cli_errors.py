"""Bad input to every subcommand: one clear line on stderr, exit 2, never a traceback, and no work wasted
(paths are checked before anything runs)."""
from __future__ import annotations

from pathlib import Path

import pytest

from circuit_muse.cli import main

ROOT = Path(__file__).resolve().parent.parent
COUNTER = str(ROOT / "examples" / "counter.v")


def _fails_cleanly(capsys: pytest.CaptureFixture[str], argv: list[str], *expect: str) -> str:
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, (argv, err)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("circuit-muse: "), (argv, err)
    assert "Traceback" not in err
    for text in expect:
        assert text in err, (argv, err)
    return err


def test_junit_to_a_missing_folder_or_a_directory(tmp_path: Path, capsys) -> None:
    _fails_cleanly(capsys, ["verify", COUNTER, "--junit", str(tmp_path / "no" / "r.xml")], "does not exist")
    _fails_cleanly(capsys, ["verify", COUNTER, "--junit", str(tmp_path)], "is a directory")
    assert list(tmp_path.iterdir()) == []


def test_a_directory_given_as_an_input_says_so(tmp_path: Path, capsys) -> None:
    _fails_cleanly(capsys, ["verify", str(tmp_path)], "is a directory")
    for flag in ("--testbench", "--reference", "--contract"):
        _fails_cleanly(capsys, ["verify", COUNTER, flag, str(tmp_path)], "is a directory", flag.strip("-"))
    _fails_cleanly(capsys, ["train", "--config", str(tmp_path), "--dry-run"], "is a directory")
    _fails_cleanly(capsys, ["data", "check", str(tmp_path)], "is a directory")
    _fails_cleanly(capsys, ["data", "stats", str(tmp_path)], "is a directory")


def test_missing_inputs_say_does_not_exist(tmp_path: Path, capsys) -> None:
    gone = str(tmp_path / "gone.v")
    _fails_cleanly(capsys, ["verify", gone], "does not exist")
    _fails_cleanly(capsys, ["verify", COUNTER, "--reference", gone], "does not exist")
    _fails_cleanly(capsys, ["data", "check", gone], "does not exist")


def test_os_errors_become_one_line(tmp_path: Path) -> None:
    from circuit_muse.cli import _os_error_text

    assert _os_error_text(IsADirectoryError(21, "Is a directory", str(tmp_path))).endswith("is a directory")
    assert "permission denied" in _os_error_text(PermissionError(13, "Permission denied", "/x"))


def test_bad_values(tmp_path: Path, capsys) -> None:
    _fails_cleanly(capsys, ["verify", COUNTER, "--param", "WIDTH=wide"], "must be an integer")
    _fails_cleanly(capsys, ["verify", COUNTER, "--suite", "nosuch"], "unknown suite family")
    _fails_cleanly(capsys, ["verify", COUNTER, "--suite", "counter", "--param", "NOPE=3"], "unknown parameter")
    bad_json = tmp_path / "c.json"
    bad_json.write_text("{")
    _fails_cleanly(capsys, ["verify", COUNTER, "--contract", str(bad_json)], "cannot read contract")
    bad_toml = tmp_path / "t.toml"
    bad_toml.write_text("[x")
    _fails_cleanly(capsys, ["train", "--config", str(bad_toml), "--dry-run"], "not valid TOML")
    _fails_cleanly(capsys, ["data", "stats", str(bad_toml)], "not valid JSON")
    _fails_cleanly(capsys, ["suites", "--family", "counter", "--param", "A=b"], "not an integer")
    _fails_cleanly(capsys, ["generate", "x", "--model", "openai:notaurl"], "openai:BASE_URL#MODEL_NAME")
    _fails_cleanly(capsys, ["generate", "x", "--model", "hf:" + str(tmp_path / "none")], "No model folder")
    _fails_cleanly(capsys, ["generate", "x", "--model-option", "foo"], "KEY=VALUE")
    _fails_cleanly(capsys, ["generate", "x", "--model", "bogus:x"], "Unknown model backend 'bogus'", "hf:PATH")
    _fails_cleanly(capsys, ["generate", "x", "--model", "hf:"], "hf:PATH")
    _fails_cleanly(capsys, ["generate", "x", "--model", "/models/m"], "no backend prefix", "nano")
    _fails_cleanly(capsys, ["bench", "--suite", "builtin", "--model", "reference", "--out", str(tmp_path / "o"),
                            "--fail-under", "0.1"], "--fail-under needs --baseline")


def test_argparse_rejects_non_positive_counts(capsys) -> None:
    for argv in (["data", "check", "--sample", "-3"], ["data", "check", "--workers", "0"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
        assert "must be 1 or more" in capsys.readouterr().err


def test_outputs_are_checked_before_the_work_runs(tmp_path: Path, capsys) -> None:
    """A bad -o / --out must fail at once: no model call, no 10-minute build thrown away."""
    nowhere = str(tmp_path / "no" / "x")
    # the model server does not exist: if -o were checked after generation, this would be a ModelError
    _fails_cleanly(capsys, ["generate", "x", "--model", "openai:http://127.0.0.1:9/v1#m", "-o", nowhere],
                   "-o/--output", "does not exist")
    for flag in ("--out", "--eval-out", "--report"):
        _fails_cleanly(capsys, ["data", "build", flag, nowhere], flag, "does not exist")
    _fails_cleanly(capsys, ["verify", COUNTER, "--keep-waves", COUNTER], "is a file, not a folder")


def test_usage_errors_are_one_line(capsys) -> None:
    for argv, text in ((["verify"], "the following arguments are required: FILE"),
                       (["verify", COUNTER, "--simulator", "modelsim"], "invalid choice: 'modelsim'"),
                       (["data", "check", "--tier", "slow"], "invalid choice: 'slow'"),
                       (["nosuch"], "invalid choice: 'nosuch'")):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        err = capsys.readouterr().err
        assert exc.value.code == 2 and len(err.strip().splitlines()) == 1 and text in err, (argv, err)
        assert "--help" in err
