"""The service's own pieces without a server: the uploaded-bench screen, the waveform window, the store."""
from __future__ import annotations

from pathlib import Path

import pytest

from circuit_muse.errors import TestbenchError
from circuit_muse.service.bench_screen import screen_bench
from circuit_muse.service.db import JobStore
from circuit_muse.service.waves import waveform_window

RESULT = '$display("CM_RESULT pass=1 fail=0");'


def test_a_plain_bench_passes_the_screen() -> None:
    screen_bench(f'module tb; initial begin $dumpfile("w.vcd"); $dumpvars; #10 {RESULT} $finish; end endmodule')


@pytest.mark.parametrize("body, why", [
    ('$system("rm -rf /");', "$system"),
    ('f = $fopen("/etc/passwd", "r");', "$fopen"),
    ('$readmemh("/etc/shadow", mem);', "$readmemh"),
    ('if ($test$plusargs("x")) ;', "$test$plusargs"),
    ('$dumpfile("/tmp/elsewhere.vcd");', "plain .vcd"),
    ('$dumpfile(name);', "string literal"),
    ("`include \"/etc/passwd\"", "include"),
    ('$vpi_thing();', "$vpi_thing"),
    # a quote inside an escaped identifier must not open a fake string that hides what follows
    ('reg \\a"b ; f = $fopen("/etc/passwd", "r"); $display("x");', "escaped identifiers"),
    ('end import "DPI-C" function int f(); initial begin', "import"),
    ('`define P(a) $sys``a\n `P(tem)("id");', "token pasting"),
])
def test_hostile_benches_are_refused_with_the_reason(body: str, why: str) -> None:
    with pytest.raises(TestbenchError, match=None) as err:
        screen_bench(f"module tb; reg [64:1] name; integer f; reg [7:0] mem[0:3];\ninitial begin {body} {RESULT} end\nendmodule")
    assert why in str(err.value)


def test_comments_and_strings_do_not_trip_the_screen() -> None:
    screen_bench(f'// $system is mentioned here\nmodule tb; initial begin $display("$fopen is text"); {RESULT} end endmodule')


def test_the_store_keeps_exactly_one_terminal_event(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    job = store.create("j1", "anonymous", "a counter", {"rounds": 1})
    assert store.mark_running("j1") and store.append("j1", "round_started", 1, {"samples": 1}) == 1
    assert store.finish("j1", "cancelled", 1, {"passed": False, "reason": "cancelled"}) == 2
    assert store.finish("j1", "passed", 1, {"passed": True, "reason": "passed"}) is None  # too late: ended
    assert store.append("j1", "token", 1, {"text": "late"}) is None
    assert [e.type for e in store.events_after("j1", 0)] == ["round_started", "done"]
    assert store.get("j1").state == "cancelled" and job.state == "queued"
    store.create("j2", "anonymous", "another", {})
    again = JobStore(tmp_path / "jobs.sqlite3")  # a restart
    assert again.interrupt_unfinished() == ["j2"] and again.get("j2").state == "interrupted"
    assert again.count_events("j2", "done") == 1 and again.get("j1").state == "cancelled"


@pytest.mark.simulator
def test_the_waveform_window_puts_expected_next_to_got(tmp_path: Path) -> None:
    import circuit_muse as cm
    from circuit_muse.testbench import ReferenceTestbench
    from tests.service_support import GOOD, MISMATCH

    rep = cm.verify(MISMATCH, testbench=ReferenceTestbench(GOOD), options={"keep_vcd_dir": str(tmp_path)},
                    use_cache=False)
    sim = rep.stage("simulate").simulation
    assert sim.vcd_path and Path(sim.vcd_path).parent == tmp_path
    wave = waveform_window(sim.vcd_path, [m.to_dict() for m in sim.mismatches])
    names = [lane["name"] for lane in wave["signal"] if isinstance(lane, dict)]
    assert names[0] == "clk" and "ref_count" in names and "dut_count" in names
    group = next(lane for lane in wave["signal"] if isinstance(lane, list))
    got, expected = group[1], group[2]
    assert "9" in got["wave"]  # the mismatching cycles are marked
    first = wave["focus_cycle"] - wave["first_cycle"]
    assert got["data"] != expected["data"] and 0 <= first < len(got["wave"])
