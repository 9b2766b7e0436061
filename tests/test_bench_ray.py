"""`--executor ray`: problems verified on a Ray cluster the test starts in-process (one CPU, no dashboard);
the verdicts and records match the local executor's, and resume works the same."""
from __future__ import annotations

import pytest

from circuit_muse.bench.harness import BenchConfig, run_bench
from tests.support.bench_fixtures import DESIGNS, write_verilog_eval_v2

pytestmark = [pytest.mark.simulator, pytest.mark.slow]


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray", reason="the [bench] extra (Ray) is not installed: pip install -e '.[bench]'")
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def _verdicts(run):
    return [(r["problem"], [(s["passed"], s["rounds"][-1]["category"]) for s in r["samples"]]) for r in run.records]


def test_ray_executor_matches_local_and_resumes(tmp_path, local_ray):
    suite = f"verilog-eval:{write_verilog_eval_v2(tmp_path / 've', DESIGNS[:3])}"
    common = dict(suite=suite, checks="functional", use_cache=False)
    local = run_bench(BenchConfig(model="reference", out=tmp_path / "local", **common))
    on_ray = run_bench(BenchConfig(model="reference", out=tmp_path / "ray", executor="ray", **common))
    assert local_ray.is_initialized() and local_ray.cluster_resources()["CPU"] == 1
    assert _verdicts(on_ray) == _verdicts(local) and all(r["c"] == 1 for r in on_ray.records)
    forged = run_bench(BenchConfig(model="forged", out=tmp_path / "forged", executor="ray", **common))
    assert forged.metrics["pass_at"]["pass@1"] == 0.0
    # resume: drop the last record, run again on Ray, get the same records back
    records = tmp_path / "ray" / "records.jsonl"
    lines = records.read_text().splitlines(keepends=True)
    records.write_text("".join(lines[:-1]))
    again = run_bench(BenchConfig(model="reference", out=tmp_path / "ray", executor="ray", **common))
    assert _verdicts(again) == _verdicts(on_ray) and records.read_text().count("\n") == len(lines)
