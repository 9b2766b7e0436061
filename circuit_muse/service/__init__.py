"""`circuit-muse serve`: the loop and the engine over HTTP (FastAPI), with jobs, live events and a web page.

Names load lazily: a job's verifier process imports circuit_muse.service.verifier and must not pay for
FastAPI on every start.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {"create_app": "circuit_muse.service.app", "ServiceConfig": "circuit_muse.service.config"}
__all__ = ["ServiceConfig", "create_app"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'circuit_muse.service' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


if TYPE_CHECKING:  # pragma: no cover
    from .app import create_app
    from .config import ServiceConfig
