"""The permissively licensed HDL pretraining corpus for circuit-muse-nano (see build.py)."""
from __future__ import annotations
