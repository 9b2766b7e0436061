"""The one small interface every model backend implements, and the strict-options helper they share.

A backend is a `Model` subclass with a `backend` name, a nested `Options` dataclass and one method that
does the work, `stream(request, on_chunk)`. `generate(request)` is `stream(request, None)`.

Nothing here imports torch or httpx: backends import their heavy dependencies lazily.
"""
from __future__ import annotations

import dataclasses
import logging
import types
import typing
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from ..errors import ModelError

__all__ = [
    "Chunk",
    "Completion",
    "GenerationRequest",
    "GenerationResult",
    "Message",
    "Model",
    "ModelError",
    "build_options",
]

log = logging.getLogger(__name__)

ROLES = ("system", "user", "assistant")


@dataclass
class Message:
    """One chat message. `role` is "system", "user" or "assistant"."""

    role: str
    content: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass
class GenerationRequest:
    """What to generate.

    Args:
        messages: the conversation, oldest first.
        n: how many independent completions (samples) to return.
        temperature: None uses the backend's default (the model's generation config, or the server's);
            0 means greedy decoding.
        top_p: nucleus sampling; None uses the backend's default.
        max_new_tokens: the most tokens each completion may have.
        seed: makes sampling repeatable where the backend allows it.
        stop: strings that end a completion; the stop string itself is not part of the text.
    """

    messages: list[Message]
    n: int = 1
    temperature: float | None = None
    top_p: float | None = None
    max_new_tokens: int = 1024
    seed: int | None = None
    stop: list[str] | None = None

    def validate(self) -> None:
        """Raise ModelError if the request cannot be sent to any backend."""
        if not self.messages:
            raise ModelError("GenerationRequest.messages is empty: give at least one user message.")
        for i, m in enumerate(self.messages):
            if not isinstance(m, Message):
                raise ModelError(f"GenerationRequest.messages[{i}] is {type(m).__name__}, not Message(role, content).")
            if m.role not in ROLES:
                raise ModelError(f"GenerationRequest.messages[{i}].role is {m.role!r}; use one of: {', '.join(ROLES)}.")
            if not isinstance(m.content, str):
                raise ModelError(f"GenerationRequest.messages[{i}].content must be a str.")
        if not isinstance(self.n, int) or self.n < 1:
            raise ModelError(f"GenerationRequest.n is {self.n!r}; it must be an integer >= 1.")
        if not isinstance(self.max_new_tokens, int) or self.max_new_tokens < 1:
            raise ModelError(f"GenerationRequest.max_new_tokens is {self.max_new_tokens!r}; it must be >= 1.")
        if self.temperature is not None and self.temperature < 0:
            raise ModelError(f"GenerationRequest.temperature is {self.temperature}; it must be >= 0 (0 = greedy).")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise ModelError(f"GenerationRequest.top_p is {self.top_p}; it must be in (0, 1].")
        if self.stop is not None and (
            isinstance(self.stop, str) or not all(isinstance(s, str) and s for s in self.stop)
        ):
            raise ModelError("GenerationRequest.stop must be a list of non-empty strings.")


@dataclass
class Chunk:
    """A streamed piece of completion `index` (0..n-1). Concatenating a completion's chunks gives its text."""

    index: int
    text: str


@dataclass
class Completion:
    """One finished completion.

    `finish_reason` is "stop" (end of sequence or a stop string), "length" (max_new_tokens reached) or None
    when the backend did not say. `completion_tokens` is exact for the hf backend; for the openai backend it
    is the server's count where the server gives one per completion, else an estimate (see openai_backend).
    """

    index: int
    text: str
    completion_tokens: int
    finish_reason: str | None


@dataclass
class GenerationResult:
    """All completions of one request, in index order, with timing.

    `prompt_tokens` is the length of the prompt once (not multiplied by n). `duration_s` is the wall time of
    the whole call; `time_to_first_token_s` is the time to the first streamed chunk, or None when nothing
    was streamed.
    """

    completions: list[Completion]
    prompt_tokens: int
    duration_s: float
    time_to_first_token_s: float | None
    model: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def texts(self) -> list[str]:
        return [c.text for c in self.completions]

    @property
    def completion_tokens(self) -> int:
        return sum(c.completion_tokens for c in self.completions)


ChunkCallback = Callable[[Chunk], None]


class Model(ABC):
    """A way to get completions from a model.

    Subclasses set `backend` (the prefix of the spec string), `Options` (a dataclass; unknown keys are an
    error) and implement `stream`. `on_chunk` is always called from the thread that called `stream`, never
    concurrently.
    """

    backend: ClassVar[str]
    Options: ClassVar[type]
    spec: str
    options: Any

    @classmethod
    @abstractmethod
    def from_spec(cls, spec: str, **options: object) -> Model:
        """Build the model from its full spec string (``"<backend>:..."``) and keyword options."""

    @abstractmethod
    def stream(self, request: GenerationRequest, on_chunk: ChunkCallback | None = None) -> GenerationResult:
        """Generate `request.n` completions, calling `on_chunk` with each piece of text as it arrives."""

    def generate(self, request: GenerationRequest) -> GenerationResult:
        """Generate without streaming callbacks."""
        return self.stream(request, None)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the model holds (connections, GPU memory). Safe to call twice."""

    def __enter__(self) -> Model:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec!r}>"


# --------------------------------------------------------------------------------------------------------
# strict options


def build_options(options_cls: type, raw: Mapping[str, object] | None, *, backend: str) -> Any:
    """Make an `Options` dataclass from keyword options, strictly.

    Unknown keys raise ModelError naming the valid ones. Values are checked against the field types; strings
    are converted for bool/int/float/dict fields so that the CLI can pass ``key=value`` pairs unchanged.
    """
    raw = dict(raw or {})
    fields = {f.name: f for f in dataclasses.fields(options_cls) if f.init}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        valid = ", ".join(sorted(fields)) or "(none)"
        raise ModelError(
            f"Unknown option{'s' if len(unknown) > 1 else ''} {', '.join(repr(k) for k in unknown)} for the "
            f"{backend!r} backend. Valid options: {valid}."
        )
    hints = typing.get_type_hints(options_cls)
    values = {}
    for key, value in raw.items():
        values[key] = _coerce(value, hints[key], f"{backend} option {key!r}")
    try:
        return options_cls(**values)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"Bad options for the {backend!r} backend: {exc}") from exc


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(value: object, hint: Any, what: str) -> object:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, what)
            except ModelError as exc:
                errors.append(str(exc))
        raise ModelError(errors[0] if errors else f"{what} cannot be {value!r}.")
    if origin is Literal:
        choices = typing.get_args(hint)
        if value in choices:
            return value
        raise ModelError(f"{what} is {value!r}; choose one of: {', '.join(repr(c) for c in choices)}.")
    if hint is Any:
        return value
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ModelError(f"{what} must be true or false, not {value!r}.")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ModelError(f"{what} must be an integer, not {value!r}.")
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
        raise ModelError(f"{what} must be a number, not {value!r}.")
    if hint is str:
        if isinstance(value, str):
            return value
        if hasattr(value, "__fspath__"):
            return str(value)
        raise ModelError(f"{what} must be a string, not {value!r}.")
    if origin is dict or hint is dict:
        if isinstance(value, Mapping):
            return dict(value)
        if isinstance(value, str):
            import json

            try:
                parsed = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ModelError(f"{what} must be a JSON object: {exc}") from exc
            if isinstance(parsed, dict):
                return parsed
        raise ModelError(f"{what} must be a mapping (or a JSON object string), not {value!r}.")
    return value
