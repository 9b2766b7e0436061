"""`circuit-muse serve`: the loop and the engine over HTTP (FastAPI), with jobs, live events and a web page."""
from __future__ import annotations

from .app import create_app
from .config import ServiceConfig

__all__ = ["ServiceConfig", "create_app"]
