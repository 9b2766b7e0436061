"""Suite readers (VerilogEval v1/v2, RTLLM v2, builtin), problem selection, metrics, records: no simulator."""
from __future__ import annotations

import json
import math
import random
from itertools import combinations

import pytest

from circuit_muse.bench.metrics import pass_at_k, summarize
from circuit_muse.bench.records import RecordStore
from circuit_muse.bench.suites import load_suite, select
from circuit_muse.cli import main
from circuit_muse.errors import InputError
from tests.support.bench_fixtures import DESIGNS, write_rtllm, write_verilog_eval_v1, write_verilog_eval_v2


def test_v2_spec_to_rtl_reader(tmp_path):
    suite = load_suite(f"verilog-eval:{write_verilog_eval_v2(tmp_path)}")
    assert suite.name == "verilog-eval-v2/spec-to-rtl"
    assert [p.id for p in suite.problems] == [d.name for d in DESIGNS]
    p = suite.problems[2]
    assert p.top == "TopModule" and "module TopModule" in p.reference and "RefModule" not in p.reference
    assert set(p.bench_modules) == {"stimulus_gen", "tb", "RefModule"}
    assert p.prompt.startswith("I would like you to implement a module named TopModule")
    assert suite.version is None  # not a git checkout


def test_v2_code_complete_reader_and_hash(tmp_path):
    root = write_verilog_eval_v2(tmp_path, task="code-complete-iccad2023")
    suite = load_suite(f"verilog-eval:{root / 'dataset_code-complete-iccad2023'}")
    assert suite.name == "verilog-eval-v2/code-complete-iccad2023"
    assert all("module TopModule" in p.prompt for p in suite.problems)
    before = suite.content_hash
    f = root / "dataset_code-complete-iccad2023" / f"{DESIGNS[0].name}_test.sv"
    f.write_text(f.read_text().replace("repeat(60)", "repeat(61)"))
    assert load_suite(f"verilog-eval:{root / 'dataset_code-complete-iccad2023'}").content_hash != before


def test_v1_jsonl_reader_with_descriptions(tmp_path):
    path = write_verilog_eval_v1(tmp_path)
    suite = load_suite(f"verilog-eval:{path}")
    assert suite.name == "verilog-eval-v1/human" and len(suite.problems) == len(DESIGNS)
    p = suite.problems[0]
    assert p.top == "top_module" and p.prompt.startswith(DESIGNS[0].spec) and p.prompt.rstrip().endswith(");")
    assert p.reference.startswith("module top_module") and "reference_module" in p.bench_modules


def test_rtllm_reader_renames_to_what_the_bench_instantiates_and_carries_data(tmp_path):
    suite = load_suite(f"rtllm:{write_rtllm(tmp_path)}")
    by_id = {p.id: p for p in suite.problems}
    mult = by_id["Arithmetic/Multiplier/mult_pipe_2bit"]
    assert mult.top == "mult_pipe_2bit" and "module mult_pipe_2bit" in mult.reference
    assert "verified_mult" not in mult.reference
    rom = by_id["Memory/ROM/rom_table"]
    assert [name for name, _ in rom.data["data_files"]] == ["expected.txt"]
    assert rom.data["dut_instance"] == "uut" and rom.data["outputs"] == ["data"]


def test_builtin_reader():
    suite = load_suite("builtin")
    assert suite.name == "builtin" and len(suite.problems) >= 20
    assert all(p.reference and p.top for p in suite.problems)


@pytest.mark.parametrize("spec", ["nope", "verilog-eval:", "rtllm:/does/not/exist", "verilog-eval:/does/not/exist"])
def test_bad_suite_specs_raise_input_error(spec):
    with pytest.raises(InputError):
        load_suite(spec)


def test_cli_bad_suite_is_one_line_exit_2(tmp_path, capsys):
    rc = main(["bench", "--suite", f"rtllm:{tmp_path}", "--model", "reference", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "RTLLM" in err[0]


def test_selection_is_seeded_and_stable(tmp_path):
    probs = load_suite("builtin").problems
    a = select(probs, pattern=None, limit=5, seed=3)
    assert [p.id for p in a] == [p.id for p in select(probs, pattern=None, limit=5, seed=3)]
    assert [p.id for p in a] != [p.id for p in select(probs, pattern=None, limit=5, seed=4)]
    assert all(p.id.startswith("counter/") for p in select(probs, pattern="counter/*", limit=None, seed=1))
    with pytest.raises(InputError):
        select(probs, pattern="zzz*", limit=None, seed=1)


def _brute_pass_at_k(n: int, c: int, k: int) -> float:
    """P(at least one of k samples drawn without replacement is correct), by enumeration."""
    items = [1] * c + [0] * (n - c)
    combos = list(combinations(range(n), k))
    return sum(any(items[i] for i in cmb) for cmb in combos) / len(combos)


@pytest.mark.parametrize("n,c,k", [(5, 0, 1), (5, 2, 1), (6, 2, 3), (8, 3, 5), (10, 1, 10), (10, 9, 5)])
def test_pass_at_k_matches_enumeration(n, c, k):
    assert pass_at_k(n, c, k) == pytest.approx(_brute_pass_at_k(n, c, k))
    assert pass_at_k(n, c, k) == pytest.approx(1 - math.comb(n - c, k) / math.comb(n, k))


def _rec(pid, passes_by_round):
    samples = []
    for i, rounds in enumerate(passes_by_round):
        samples.append({"index": i, "passed": rounds[-1], "rounds": [
            {"round": r + 1, "passed": ok, "category": "pass" if ok else "mismatch", "tokens": 10, "model_s": 0.5,
             "verify_s": 0.1, "static_findings": {"lint": ["width"]} if not ok else {}} for r, ok in enumerate(rounds)]})
    return {"problem": pid, "n": len(samples), "c": sum(s["passed"] for s in samples), "samples": samples}


def test_summarize_rounds_categories_and_costs():
    recs = [_rec("a", [[False, True], [True]]), _rec("b", [[False, False], [False, False]])]
    m = summarize(recs, rounds=2)
    assert m["pass_at"] == {"pass@1": pytest.approx(0.5)}  # n=2: pass@5/10 not reported
    assert [r["pass_rate"] for r in m["pass_rate_by_round"]] == [pytest.approx(0.25), pytest.approx(0.5)]
    assert m["failure_categories"] == {"mismatch": 2}
    assert m["per_problem"]["tokens"] == pytest.approx((30 + 40) / 2)


def test_records_resume_drops_a_cut_line_and_refuses_other_settings(tmp_path):
    store = RecordStore(tmp_path, "key1")
    store.add({"problem": "a", "c": 1})
    with (tmp_path / "records.jsonl").open("a") as fh:
        fh.write('{"run_key": "key1", "problem": "b"')  # killed mid-write
    again = RecordStore(tmp_path, "key1")
    assert list(again.done) == ["a"]
    again.add({"problem": "b", "c": 0})
    lines = (tmp_path / "records.jsonl").read_text().splitlines()
    assert [json.loads(x)["problem"] for x in lines] == ["a", "b"]
    with pytest.raises(InputError, match="other settings"):
        RecordStore(tmp_path, "key2")


def test_random_pass_at_k_is_monotone_in_k():
    rng = random.Random(0)
    for _ in range(50):
        n = rng.randint(10, 30)
        c = rng.randint(0, n)
        vals = [pass_at_k(n, c, k) for k in (1, 5, 10)]
        assert vals == sorted(vals)
