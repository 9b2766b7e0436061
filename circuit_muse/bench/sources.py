"""Where candidates come from: `reference`, `forged`, or a real model (hf:PATH, openai:URL#NAME, ...)."""
from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..models.base import GenerationRequest, Message, Model
from ..prompts import environment
from .problem import Problem

SPECIAL_MODELS = ("reference", "forged")


@dataclass
class Generated:
    text: str
    tokens: int = 0
    model_s: float = 0.0
    technique: str | None = None


def prompt_template_hash() -> str:
    """sha256 over the prompt templates every model request is rendered from."""
    env = environment()
    h = hashlib.sha256()
    for name in sorted(env.list_templates()):
        h.update(name.encode() + b"\0" + env.loader.get_source(env, name)[0].encode() + b"\0")  # type: ignore[union-attr]
    return h.hexdigest()


class CandidateSource:
    """Gives n candidates for a problem (first round) and one repair for a failed candidate."""

    name = ""
    repairs = True

    def first(self, problem: Problem, messages: list[Message], n: int, seed: int) -> list[Generated]:
        raise NotImplementedError

    def repair(self, problem: Problem, messages: list[Message], seed: int) -> Generated:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"model": self.name, "weights_hash": None}


class ReferenceSource(CandidateSource):
    """The benchmark's own reference solutions: the harness self-check (all must pass)."""

    name = "reference"
    repairs = False

    def first(self, problem: Problem, messages: list[Message], n: int, seed: int) -> list[Generated]:
        return [Generated(problem.reference) for _ in range(n)]


class ForgedSource(CandidateSource):
    """One forged design per hostile technique: the harness self-check (all must fail)."""

    name = "forged"
    repairs = False

    def first(self, problem: Problem, messages: list[Message], n: int, seed: int) -> list[Generated]:
        from .forged import techniques

        return [Generated(text, technique=name) for name, text in techniques(problem).items()]


class ModelSource(CandidateSource):
    def __init__(self, spec: str, *, temperature: float | None, top_p: float | None, max_new_tokens: int,
                 model_options: dict[str, Any] | None = None) -> None:
        from ..models.registry import get_model

        self.name = spec
        self.model: Model = get_model(spec, **(model_options or {}))
        # A server batches concurrent requests; a local model in this process generates one request at a time.
        self._lock = None if spec.startswith("openai:") else threading.Lock()
        self.temperature, self.top_p, self.max_new_tokens = temperature, top_p, max_new_tokens

    def _ask(self, messages: list[Message], n: int, seed: int) -> list[Generated]:
        req = GenerationRequest(messages=messages, n=n, temperature=self.temperature, top_p=self.top_p,
                                max_new_tokens=self.max_new_tokens, seed=seed)
        with self._lock or contextlib.nullcontext():
            t = time.monotonic()
            res = self.model.generate(req)
        each = (time.monotonic() - t) / max(1, n)
        return [Generated(c.text, c.completion_tokens, each) for c in res.completions]

    def first(self, problem: Problem, messages: list[Message], n: int, seed: int) -> list[Generated]:
        return self._ask(messages, n, seed)

    def repair(self, problem: Problem, messages: list[Message], seed: int) -> Generated:
        return self._ask(messages, 1, seed)[0]

    def describe(self) -> dict[str, Any]:
        return {"model": self.name, "weights_hash": weights_hash(self.name)}


def weights_hash(spec: str) -> str | None:
    """For hf:PATH, sha256 over the weight files' names, sizes and first/last MiB (full hashes of
    multi-GB files cost minutes); None for remote models, whose weights we cannot see."""
    if not spec.startswith("hf:"):
        return None
    root = Path(spec[3:].split("#")[0]).expanduser()
    files = sorted(f for f in root.rglob("*") if f.is_file() and f.suffix in (".safetensors", ".bin", ".pt", ".gguf"))
    if not files:
        return None
    h = hashlib.sha256()
    for f in files:
        size = f.stat().st_size
        h.update(f"{f.relative_to(root)}\0{size}\0".encode())
        with f.open("rb") as fh:
            h.update(fh.read(1 << 20))
            if size > 2 << 20:
                fh.seek(-(1 << 20), 2)
                h.update(fh.read(1 << 20))
    return "head-tail-sha256:" + h.hexdigest()


def make_source(spec: str, **kw: Any) -> CandidateSource:
    if spec == "reference":
        return ReferenceSource()
    if spec == "forged":
        return ForgedSource()
    return ModelSource(spec, **kw)
