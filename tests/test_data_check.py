"""Re-verification of the training set with the real tools: a seeded sample in the default run (the seed changes
every run and is printed in pytest's header; CIRCUIT_MUSE_TEST_SEED=N repeats one), the assertion traffic
self-test with -m slow. The whole set is `circuit-muse data check` (`nox -s data`), minutes, not a unit test."""
from __future__ import annotations

import pytest

from circuit_muse.cli.data_cmd import sample_records
from circuit_muse.data import load_dataset
from circuit_muse.data.check import check_record, check_records, family_key, summarize
from circuit_muse.data.sources import all_designs, stub_design
from tests.conftest import TEST_SEED

pytestmark = pytest.mark.simulator


@pytest.fixture(scope="module")
def records():
    return load_dataset()


def test_sample_spans_tasks_and_families(records) -> None:
    sample = sample_records(records, 30)
    assert len(sample) == 30
    assert {r.task for r in sample} == {"generate", "debug", "explain", "assertion"}
    assert len({family_key(r.family) for r in sample}) >= 7
    assert [r.id for r in sample] == [r.id for r in sample_records(records, 30)]   # deterministic


def test_the_sample_changes_with_the_seed(records) -> None:
    assert [r.id for r in sample_records(records, 20, seed=1)] != [r.id for r in sample_records(records, 20, seed=2)]


def test_a_seeded_sample_reverifies(records) -> None:
    n = 16   # one record from each (task, family) group first, then more: every kind of check gets exercised
    sample = sample_records(records, n, seed=TEST_SEED)
    results = check_records(sample, workers=2, tier="fast")
    failed = [(r.id, r.problems) for r in results if not r.passed]
    assert not failed, f"seed {TEST_SEED}: {failed}"
    s = summarize(results)
    assert s["passed"] == s["total"] == n
    for res, rec in zip(results, sample, strict=True):
        assert res.id == rec.id
        # the re-run reaches the same kinds of checks the record claims (tier aside)
        claimed = {c.split(":", 1)[0] for c in rec.checks}
        assert claimed <= {c.split(":", 1)[0] for c in res.checks} | {"suite-pending"}, rec.id


def _first(records, pred):
    return next(r for r in records if pred(r))


def test_check_catches_a_broken_generate_output(records) -> None:
    rec = _first(records, lambda r: r.task == "generate" and r.family == "other:gray_counter")
    broken = rec.to_json() | {"output": rec.output.replace("bin_next ^ (bin_next >> 1)", "bin_next")}
    res = check_record(broken, tier="fast")
    assert not res.passed and "output does not pass" in res.problems[0]


def test_check_rejects_a_debug_record_whose_bug_is_not_real(records) -> None:
    rec = _first(records, lambda r: r.task == "debug" and r.family == "other:edge_detector")
    fixed = rec.to_json()
    fixed["input"] = fixed["output"].split("```verilog", 1)[1].rsplit("```", 1)[0]
    res = check_record(fixed, tier="fast")
    assert not res.passed and any("bug is not real" in p for p in res.problems)


def test_check_rejects_family_outputs_that_miss_the_suite(records) -> None:
    rec = _first(records, lambda r: r.task == "generate" and r.family == "fifo")
    broken = rec.to_json() | {"output": rec.output.replace("wr_en && !full", "wr_en")}
    assert broken["output"] != rec.output
    res = check_record(broken, tier="fast")
    assert not res.passed


def test_check_rejects_explain_code_that_does_not_compile(records) -> None:
    rec = _first(records, lambda r: r.task == "explain" and "```verilog" in r.output)
    broken = rec.to_json() | {"output": rec.output.replace("endmodule", "endmodul", 1)}
    res = check_record(broken, tier="fast")
    assert not res.passed and "does not compile" in res.problems[0]


def test_check_rejects_an_assertion_that_never_fires(records) -> None:
    rec = _first(records, lambda r: r.task == "assertion" and r.params.get("property") == "fifo_no_overflow"
                 and not r.input)
    vacuous = rec.to_json() | {"output": rec.output.replace("full |-> !wr_en", "full |-> 1'b1")}
    assert vacuous["output"] != rec.output
    res = check_record(vacuous)
    assert not res.passed and "assertion checker does not pass" in res.problems[0]


def test_every_bench_and_reference_can_fail() -> None:
    """A dead design (outputs tied to 0, or to 1) must fail every hand-written check: no vacuous benches.

    Every design's bench is checked, at one parameter point per design drawn from the run's seed (all 97 points
    cost 4x more; the seed walks them over runs)."""
    import random

    from circuit_muse import verify

    rng = random.Random(TEST_SEED)
    for d in all_designs().values():
        pt = rng.choice(list(d.points()))
        for level in (0, 1):
            rep = verify(stub_design(d.design(pt), d.top, level), top=d.top, testbench=d.testbench(pt),
                         use_cache=False)
            assert not rep.passed, (d.name, pt, level, f"seed {TEST_SEED}")


@pytest.mark.slow
def test_assertion_traffic_violations_are_where_they_claim() -> None:
    """Cut violating traffic just before its violation: the reference checker must stay quiet.

    Six of the 34 (property, point) pairs per run, drawn from the run's seed: each is a Verilator build
    (~2.5 s); CIRCUIT_MUSE_TEST_ALL_ASSERTIONS=1 checks all of them (`nox -s data`)."""
    import os
    import random

    from circuit_muse import verify
    from circuit_muse.data.sva import CATALOG, CatalogAssertionSuite

    pairs = [(name, pt) for name, prop in CATALOG.items() for pt in prop.points()]
    if os.environ.get("CIRCUIT_MUSE_TEST_ALL_ASSERTIONS") != "1":
        pairs = random.Random(TEST_SEED).sample(pairs, 6)
    for name, pt in pairs:
        suite = CatalogAssertionSuite(name, pt, prefixes=True)
        rep = verify(suite.reference_rtl(), testbench=suite, contract=suite.contract,
                     options=suite.verify_options(), use_cache=False)
        assert rep.passed, (name, pt, f"seed {TEST_SEED}")

