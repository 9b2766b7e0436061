"""Result cache keyed by (design, top, contract, testbench, tool versions, options)."""
from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from ..report import VerificationReport
from ..tools.registry import versions

if TYPE_CHECKING:
    from ..contract import Contract
    from ..testbench.base import Testbench
    from .options import VerifyOptions

CACHE_ENV = "CIRCUIT_MUSE_CACHE_DIR"


def verification_key(source: str, top: str | None, contract: Contract | None, tb: Testbench | None,
                     options: VerifyOptions) -> str:
    h = hashlib.sha256()
    for part in (source, top or "", json.dumps(contract.to_dict(), sort_keys=True) if contract else "",
                 tb.fingerprint() if tb else "", json.dumps(_tool_versions(), sort_keys=True),
                 options.fingerprint()):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


_VERSIONS: dict[str, str] | None = None


def _tool_versions() -> dict[str, str]:
    global _VERSIONS
    if _VERSIONS is None:
        _VERSIONS = versions()
    return _VERSIONS


class VerifyCache:
    """An in-memory LRU of reports, optionally backed by one JSON file per key in a directory."""

    def __init__(self, directory: str | os.PathLike[str] | None = None, max_items: int = 4096) -> None:
        self.directory = Path(directory) if directory else None
        self.max_items = max_items
        self._mem: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> VerificationReport | None:
        with self._lock:
            data = self._mem.get(key)
            if data is not None:
                self._mem.move_to_end(key)
        if data is None and self.directory:
            path = self.directory / f"{key}.json"
            if path.exists():
                data = path.read_text()
                self._remember(key, data)
        return VerificationReport.from_dict(json.loads(data)) if data else None

    def put(self, key: str, report: VerificationReport) -> None:
        data = report.to_json()
        self._remember(key, data)
        if self.directory:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = self.directory / f".{key}.{os.getpid()}.tmp"
            tmp.write_text(data)
            tmp.replace(self.directory / f"{key}.json")

    def _remember(self, key: str, data: str) -> None:
        with self._lock:
            self._mem[key] = data
            self._mem.move_to_end(key)
            while len(self._mem) > self.max_items:
                self._mem.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._mem.clear()


_DEFAULT: VerifyCache | None = None


def default_cache() -> VerifyCache:
    """The process-wide cache; CIRCUIT_MUSE_CACHE_DIR adds a directory shared between processes."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = VerifyCache(os.environ.get(CACHE_ENV) or None)
    return _DEFAULT
