"""Where verification runs: local worker processes (default) or a Ray cluster (`--executor ray`).

Either way each candidate goes through the same sandboxed engine (verify_many); only the driver
writes records, so resume works the same.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..engine.options import VerifyOptions
from ..errors import InputError
from ..report import VerificationReport
from .verifying import Item, _verify_batch

EXECUTORS = ("local", "ray")


class LocalExecutor:
    """`workers` problems at a time (the harness's threads), each verified in one engine worker process."""

    name = "local"

    def __init__(self, workers: int, *, use_cache: bool = True) -> None:
        self.workers, self.use_cache = workers, use_cache

    @property
    def parallelism(self) -> int:
        return self.workers

    def verify(self, items: Sequence[Item], *, top: str | None, options: VerifyOptions) -> list[VerificationReport]:
        return _verify_batch(items, top=top, options=options, workers=1, use_cache=self.use_cache) if items else []

    def close(self) -> None:
        return None


def _ray_chunk(items: list[Item], top: str | None, options: VerifyOptions, use_cache: bool) -> list[dict[str, Any]]:
    return [r.to_dict() for r in _verify_batch(items, top=top, options=options, workers=1, use_cache=use_cache)]


class RayExecutor:
    """Spreads candidates over a Ray cluster: one task per slice of a batch, each on one CPU."""

    name = "ray"

    def __init__(self, address: str | None, *, use_cache: bool = True) -> None:
        self.use_cache = use_cache
        try:
            import ray
        except ImportError:
            raise InputError("--executor ray needs Ray: pip install 'circuit-muse[bench]'") from None
        self._ray = ray
        self._owns = False
        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
            self._owns = True
        self._remote = ray.remote(num_cpus=1)(_ray_chunk)

    @property
    def parallelism(self) -> int:
        return max(1, int(self._ray.cluster_resources().get("CPU", 1)))

    def verify(self, items: Sequence[Item], *, top: str | None, options: VerifyOptions) -> list[VerificationReport]:
        items = list(items)
        if not items:
            return []
        slices = max(1, min(len(items), self.parallelism * 2))
        size = -(-len(items) // slices)
        refs = [self._remote.remote(items[i:i + size], top, options, self.use_cache) for i in range(0, len(items), size)]
        out: list[VerificationReport] = []
        for chunk in self._ray.get(refs):
            out.extend(VerificationReport.from_dict(d) for d in chunk)
        return out

    def close(self) -> None:
        if self._owns:
            self._ray.shutdown()


def make_executor(kind: str, *, workers: int, address: str | None,
                  use_cache: bool = True) -> LocalExecutor | RayExecutor:
    if kind == "local":
        if address:
            raise InputError("--address is only for --executor ray")
        return LocalExecutor(workers, use_cache=use_cache)
    if kind == "ray":
        return RayExecutor(address, use_cache=use_cache)
    raise InputError(f"unknown executor {kind!r}; choose from {', '.join(EXECUTORS)}")
