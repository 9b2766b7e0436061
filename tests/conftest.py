"""Shared test set-up: offline models, and markers for tests that need real tools."""
from __future__ import annotations

import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# GPU test modules skip themselves at import when there is no CUDA; don't even collect them unless asked
# (the device machine's scripts set CIRCUIT_MUSE_GPU_TESTS=1), so CPU runs show no skips.
collect_ignore_glob = [] if os.environ.get("CIRCUIT_MUSE_GPU_TESTS") == "1" else ["test_*_gpu.py"]


# Tests that sample (e.g. which training records to re-verify) draw from this seed. It changes every run, so CI
# covers a different slice each time; it is printed in the header, and CIRCUIT_MUSE_TEST_SEED=N reproduces a run.
TEST_SEED = int(os.environ.get("CIRCUIT_MUSE_TEST_SEED") or time.time_ns() % 1_000_000)


def pytest_report_header(config):  # noqa: ANN001, ANN201 - pytest hook
    return f"circuit_muse test seed: {TEST_SEED} (rerun with CIRCUIT_MUSE_TEST_SEED={TEST_SEED})"
