"""Shared test set-up: offline models, and markers for tests that need real tools."""
from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# GPU test modules skip themselves at import when there is no CUDA; don't even collect them unless asked
# (the device machine's scripts set CIRCUIT_MUSE_GPU_TESTS=1), so CPU runs show no skips.
collect_ignore_glob = [] if os.environ.get("CIRCUIT_MUSE_GPU_TESTS") == "1" else ["test_*_gpu.py"]
