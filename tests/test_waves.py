"""Waveforms of failing runs: kept for every kind of bench, the default folder bounded (oldest evicted first)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import circuit_muse as cm
from circuit_muse import waves
from circuit_muse.testbench import ReferenceTestbench, load_testbench

ROOT = Path(__file__).resolve().parent.parent
BAD = (ROOT / "tests/designs/bad_mismatch.v").read_text()


def _kept(report: cm.VerificationReport) -> Path:
    assert not report.passed
    sim = report.stage("simulate").simulation
    assert sim is not None and sim.vcd_path, report.stage("simulate")
    return Path(sim.vcd_path)


def _looks_like_a_waveform(path: Path) -> None:
    data = path.read_bytes()
    assert len(data) > 100
    if path.suffix == ".vcd":
        assert data.startswith(b"$date") and b"$enddefinitions" in data and b"#" in data


def _suite_mutant() -> tuple[str, object]:
    from circuit_muse.suites import get_suite

    suite = get_suite("counter", "up-en-noload-wrap-sync-low", {"WIDTH": 4})
    ref = suite.reference_rtl()
    assert "count + 1'b1" in ref
    return ref.replace("count + 1'b1", "count + 2"), suite


@pytest.mark.simulator
@pytest.mark.parametrize("kind", ["suite", "verilog-bench-without-dump", "reference", "cocotb"])
def test_every_bench_kind_keeps_the_failing_waveform(kind: str, tmp_path: Path) -> None:
    opts = {"keep_vcd_dir": str(tmp_path)}
    if kind == "suite":        # the path `generate` takes: the fast replay bench dumps nothing itself
        design, tb = _suite_mutant()
        rep = cm.verify(design, testbench=tb, contract=tb.contract, options=tb.verify_options(
            cm.VerifyOptions(keep_vcd_dir=str(tmp_path))), use_cache=False)
    elif kind == "verilog-bench-without-dump":
        bench = ROOT / "testbenches/counter_tb.sv"
        assert "$dump" not in bench.read_text()
        rep = cm.verify(BAD, testbench=load_testbench(bench), options=opts, use_cache=False)
    elif kind == "reference":
        rep = cm.verify(BAD, testbench=ReferenceTestbench((ROOT / "examples/counter_ref.v").read_text()),
                        options=opts, use_cache=False)
    else:
        rep = cm.verify(BAD, testbench=load_testbench(ROOT / "testbenches/test_counter.py"), options=opts,
                        use_cache=False)
    path = _kept(rep)
    assert path.parent == tmp_path and path.exists()
    _looks_like_a_waveform(path)


@pytest.mark.simulator
def test_the_rerun_waveform_shows_the_failing_signals(tmp_path: Path) -> None:
    design, tb = _suite_mutant()
    rep = cm.verify(design, testbench=tb, contract=tb.contract,
                    options=tb.verify_options(cm.VerifyOptions(keep_vcd_dir=str(tmp_path))), use_cache=False)
    text = _kept(rep).read_text()
    assert "$scope module cm_replay_tb" in text and " count " in text   # the bench and the design's output


@pytest.mark.simulator
def test_cli_says_where_the_waveform_is(tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "circuit_muse.cli", "verify", "tests/designs/bad_mismatch.v",
                          "--testbench", "testbenches/counter_tb.sv", "--keep-waves", str(tmp_path)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 1
    line = next(ln for ln in res.stdout.splitlines() if "waveform kept:" in ln)
    assert Path(line.split("waveform kept:", 1)[1].strip()).parent == tmp_path


def _fake_wave(folder: Path, name: str, size: int, age_s: int) -> Path:
    p = folder / name
    p.write_bytes(b"x" * size)
    t = 1_700_000_000 - age_s
    os.utime(p, (t, t))
    return p


def test_default_folder_is_capped_and_evicts_the_oldest(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CIRCUIT_MUSE_WAVES_DIR", str(tmp_path))
    monkeypatch.setenv(waves.CAP_ENV, str(3000 / (1024 * 1024)))  # 3000 bytes
    oldest = _fake_wave(tmp_path, "a-000000000001.vcd", 1000, 300)
    older = _fake_wave(tmp_path, "b-000000000002.vcd", 1000, 200)
    newer = _fake_wave(tmp_path, "c-000000000003.fst", 1000, 100)
    other = _fake_wave(tmp_path, "notes.txt", 5000, 400)          # not ours: never touched
    src = tmp_path.parent / "fresh.vcd"
    src.write_bytes(b"y" * 1000)
    kept = waves.store(src, tmp_path, "d-000000000004")
    assert kept == str(tmp_path / "d-000000000004.vcd")
    assert not oldest.exists() and older.exists() and newer.exists() and other.exists()
    assert sum(p.stat().st_size for p in tmp_path.iterdir() if p.suffix in (".vcd", ".fst")) <= 3000


def test_a_folder_the_user_names_is_never_pruned(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CIRCUIT_MUSE_WAVES_DIR", str(tmp_path / "default"))
    monkeypatch.setenv(waves.CAP_ENV, "0")
    mine = tmp_path / "mine"
    mine.mkdir()
    old = _fake_wave(mine, "a-000000000001.vcd", 1000, 300)
    src = tmp_path / "fresh.vcd"
    src.write_bytes(b"y" * 10)
    assert waves.store(src, mine, "b-000000000002") and old.exists()


def test_eviction_keeps_the_new_file_even_over_the_cap(tmp_path: Path) -> None:
    new = _fake_wave(tmp_path, "n-000000000001.vcd", 5000, 0)
    assert waves.evict_oldest(tmp_path, 10, keep=new) == [] and new.exists()


@pytest.mark.simulator
def test_image_sources_reads_files_and_roots_from_a_real_image(tmp_path: Path) -> None:
    (tmp_path / "d.v").write_text("module d(input a, output y); assign y = a; endmodule\n")
    (tmp_path / "tb.sv").write_text("module tb; reg a = 0; wire y; d u(.a(a), .y(y)); endmodule\n")
    subprocess.run(["iverilog", "-g2012", "-o", "x.vvp", "-s", "tb", "d.v", "tb.sv"], cwd=tmp_path, check=True)
    files, roots = waves.image_sources((tmp_path / "x.vvp").read_text())
    assert sorted(files) == ["d.v", "tb.sv"] and roots == ["tb"]


@pytest.mark.simulator
def test_no_rerun_for_the_default_folder(tmp_path: Path, monkeypatch) -> None:
    """Bulk work keeps only waveforms the bench made itself: no second simulation per failing candidate."""
    monkeypatch.setenv("CIRCUIT_MUSE_WAVES_DIR", str(tmp_path))
    design, tb = _suite_mutant()
    rep = cm.verify(design, testbench=tb, contract=tb.contract, options=tb.verify_options(cm.VerifyOptions()),
                    use_cache=False)
    assert not rep.passed and rep.stage("simulate").simulation.vcd_path is None
    assert list(tmp_path.iterdir()) == []


def test_names_from_the_image_never_become_arguments_or_verilog(tmp_path: Path) -> None:
    """A design can rename its file with `line or use an escaped identifier: the rerun then does nothing."""
    from types import SimpleNamespace

    image = ('S_0x1 .scope module, "tb" "tb" 3 4;\n:file_names 4;\n    "N/A";\n    "<interactive>";\n'
             '    "-o/etc/x";\n    "design.sv";\n')
    (tmp_path / "design.sv").write_text("module m; endmodule\n")
    (tmp_path / "sim.vvp").write_text(image)
    files, roots = waves.image_sources(image)
    assert files == ["-o/etc/x", "design.sv"] and roots == ["tb"]
    evil = image.replace('"tb" "tb"', '"tb);$finish;//" "tb"')
    (tmp_path / "sim.vvp").write_text(evil)
    ctx = SimpleNamespace(options=cm.VerifyOptions(), workdir=tmp_path, prebuilt=None, nonce="CMV" + "ab" * 12)
    assert waves.dump_rerun(ctx) == []
    assert not list(tmp_path.glob("cm_wave_dump_*"))

