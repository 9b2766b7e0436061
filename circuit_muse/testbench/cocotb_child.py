"""Child process for one cocotb run, in two sandboxed calls: `build` (may use the compile cache), then `test`.

Run as `python .../cocotb_child.py build|test CONFIG.json [RESULTS.xml]` (by path: it needs only cocotb)
inside the sandbox directory. The parent reads the verdict from RESULTS.xml, a random path outside the
work directory that only this argument names (the design's own directory never mentions it).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main(phase: str, config_path: str, results: str | None = None) -> int:
    cfg = json.loads(Path(config_path).read_text())
    work = Path(cfg["workdir"])
    sys.path.insert(0, str(work))  # the test module is copied here; PYTHONPATH via extra_env is ignored
    os.environ.pop("PYTEST_CURRENT_TEST", None)  # otherwise runner.test() calls sys.exit on failures
    from cocotb_tools.runner import get_runner

    runner = get_runner(cfg["simulator"])
    build_dir = work / "sim_build"
    if phase == "build":
        try:
            runner.build(sources=[work / s for s in cfg["sources"]], hdl_toplevel=cfg["toplevel"],
                         build_dir=build_dir, always=True, timescale=("1ns", "1ps"), waves=cfg.get("waves", True),
                         parameters=cfg.get("parameters", {}), build_args=list(cfg.get("build_args", [])),
                         log_file=work / "build.log")
        except (RuntimeError, SystemExit) as exc:
            (work / "build_failed").write_text(str(exc))
            return 3
        return 0
    try:
        runner.test(hdl_toplevel=cfg["toplevel"], hdl_toplevel_lang="verilog", test_module=cfg["test_module"],
                    build_dir=build_dir,
                    test_dir=work, results_xml=results, log_file=work / "test.log",
                    waves=cfg.get("waves", True), seed=cfg.get("seed"),
                    extra_env={"COCOTB_REWRITE_ASSERTION_FILES": "", **cfg.get("extra_env", {})},
                    testcase=cfg.get("testcase"))
    except (RuntimeError, SystemExit) as exc:
        (work / "test_failed").write_text(str(exc))
        return 4
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
