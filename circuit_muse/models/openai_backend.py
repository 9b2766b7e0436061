"""The ``openai`` backend: any OpenAI-compatible chat-completions server, spoken to with httpx alone.

Spec: ``openai:BASE_URL#MODEL_NAME``, e.g. ``openai:http://localhost:8000/v1#verilog`` (vLLM),
``openai:http://localhost:11434/v1#qwen2.5-coder:7b`` (Ollama), ``openai:http://localhost:8080/v1#model``
(llama.cpp). The key comes from the ``api_key`` option, else CIRCUIT_MUSE_API_KEY, else OPENAI_API_KEY, else
"EMPTY" (what local servers expect).

Samples: the request carries ``n``. Servers that return fewer choices (Ollama ignores ``n``) or refuse
``n > 1`` with HTTP 400/422 (older llama.cpp) get the missing samples as concurrent single requests (with
``seed + i`` when a seed is given, so that they differ); the model remembers this and goes straight to
single requests next time.

Token counts: a completion's ``completion_tokens`` is the server's ``usage.completion_tokens`` when the
request produced that one completion. When one request produced several, the server's total is split in
proportion to the streamed chunks (or, not streaming, the text lengths). With no usage at all it is the
number of streamed chunks (about one token each on vLLM, Ollama and llama.cpp) or len(text)/4.

Retries: connect errors, HTTP 408/429/500/502/503/504 are retried up to ``max_retries`` times with
exponential backoff (``Retry-After`` is honoured, capped at ``max_backoff_s``), but never after part of a
streamed answer has been passed on. A read timeout is not retried.
"""
from __future__ import annotations

import json
import logging
import math
import os
import queue
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..errors import ModelError
from .base import Chunk, ChunkCallback, Completion, GenerationRequest, GenerationResult, Model, build_options

__all__ = ["OpenAIModel", "OpenAIOptions", "ServerError", "parse_openai_spec"]

log = logging.getLogger(__name__)

API_KEY_ENV_VARS = ("CIRCUIT_MUSE_API_KEY", "OPENAI_API_KEY")
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class ServerError(ModelError):
    """The server answered with an HTTP error (after any retries). `status` is the HTTP status code."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class OpenAIOptions:
    """Options of the openai backend (all optional).

    Attributes:
        api_key: the bearer key; default CIRCUIT_MUSE_API_KEY, then OPENAI_API_KEY, then "EMPTY".
        timeout_s: the longest wait for the server's answer (or, streaming, between two chunks).
        connect_timeout_s: the longest wait to open a connection.
        max_retries: retries after a connect error or HTTP 408/429/5xx (0 = no retries).
        backoff_s: the first retry's delay; it doubles each time, capped at max_backoff_s.
        max_backoff_s: the longest delay between two tries (also caps Retry-After).
        max_concurrency: the most single requests in flight when fanning out samples.
        send_n: False sends only single requests (for servers known to mishandle ``n``).
        stream_usage: ask for token usage in streamed answers (``stream_options.include_usage``).
        extra_body: merged into every request body, e.g. ``{"structured_outputs": {"grammar": ...}}`` on vLLM.
        headers: extra HTTP headers for every request.
    """

    api_key: str | None = None
    timeout_s: float = 600.0
    connect_timeout_s: float = 10.0
    max_retries: int = 3
    backoff_s: float = 0.5
    max_backoff_s: float = 20.0
    max_concurrency: int = 8
    send_n: bool = True
    stream_usage: bool = True
    extra_body: dict[str, Any] | None = None
    headers: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if self.timeout_s <= 0 or self.connect_timeout_s <= 0:
            raise ValueError("timeout_s and connect_timeout_s must be > 0")
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.backoff_s < 0 or self.max_backoff_s < 0:
            raise ValueError("backoff_s and max_backoff_s must be >= 0")
        if self.max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")


def parse_openai_spec(spec: str) -> tuple[str, str]:
    """``openai:BASE_URL#MODEL_NAME`` -> (normalised base URL, model name)."""
    rest = spec.split(":", 1)[1] if spec.startswith("openai:") else spec
    url, sep, name = rest.rpartition("#")
    example = "openai:http://localhost:8000/v1#verilog"
    if not sep or not name.strip() or not url.strip():
        raise ModelError(
            f"Model spec {spec!r} must look like openai:BASE_URL#MODEL_NAME (e.g. {example}): "
            "the part after '#' names the model the server serves."
        )
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ModelError(f"The base URL {url!r} in {spec!r} must start with http:// or https:// (e.g. {example}).")
    if parts.path in ("", "/"):
        log.info("base URL %s has no path; using %s/v1", url, url)
        url = url + "/v1"
    return url, name.strip()


def _api_key_from_env() -> str:
    for var in API_KEY_ENV_VARS:
        value = os.environ.get(var, "").strip()
        if value:
            return value
    return "EMPTY"


def _server_message(status: int, text: str) -> str:
    """The human part of an error body ({"error": {"message": ...}}, {"detail": ...} or plain text)."""
    try:
        data = json.loads(text)
    except (ValueError, TypeError):
        return text.strip()[:500]
    if isinstance(data, dict):
        err = data.get("error", data.get("detail", data.get("message")))
        if isinstance(err, dict):
            err = err.get("message", err)
        if err is not None:
            return str(err)[:500]
    return text.strip()[:500]


class _Retryable(Exception):
    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class _NotRetryable(Exception):
    def __init__(self, error: ModelError) -> None:
        super().__init__(str(error))
        self.error = error


class _Cancelled(Exception):
    pass


@dataclass
class _CallResult:
    """What one HTTP request brought back (texts are passed on through `emit` as they come)."""

    choices: dict[int, str] = field(default_factory=dict)  # local choice index -> full text
    finish: dict[int, str | None] = field(default_factory=dict)
    chunks: dict[int, int] = field(default_factory=dict)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


# emit(kind, local_index, payload): kind "text" (payload str)
_Emit = Callable[[int, str], None]


class OpenAIModel(Model):
    """A model behind an OpenAI-compatible ``/chat/completions`` endpoint."""

    backend = "openai"
    Options = OpenAIOptions

    def __init__(self, base_url: str, model_name: str, *, spec: str | None = None, **options: object) -> None:
        self.base_url, self.model_name = parse_openai_spec(f"openai:{base_url}#{model_name}")
        self.spec = spec or f"openai:{base_url}#{model_name}"
        self.options: OpenAIOptions = build_options(OpenAIOptions, options, backend=self.backend)
        self.api_key = self.options.api_key or _api_key_from_env()
        self._client: Any = None
        self._client_lock = threading.Lock()
        self._n_supported: bool | None = None if self.options.send_n else False

    @classmethod
    def from_spec(cls, spec: str, **options: object) -> OpenAIModel:
        url, name = parse_openai_spec(spec)
        return cls(url, name, spec=spec, **options)

    # ---------------------------------------------------------------- http plumbing

    @property
    def client(self) -> Any:
        import httpx

        with self._client_lock:
            if self._client is None:
                o = self.options
                headers = {"Authorization": f"Bearer {self.api_key}", "User-Agent": "circuit-muse"}
                headers.update(o.headers or {})
                self._client = httpx.Client(
                    timeout=httpx.Timeout(o.timeout_s, connect=o.connect_timeout_s),
                    headers=headers,
                    limits=httpx.Limits(max_connections=max(o.max_concurrency, 2) + 2),
                )
            return self._client

    def close(self) -> None:
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def list_models(self) -> list[str]:
        """The model names the server serves (GET /models)."""
        import httpx

        try:
            resp = self.client.get(f"{self.base_url}/models")
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from exc
        if resp.status_code != 200:
            raise self._status_error(resp.status_code, resp.text, "/models")
        data = resp.json().get("data", [])
        return [str(m.get("id")) for m in data if isinstance(m, dict)]

    def _connect_help(self, exc: object) -> ModelError:
        return ModelError(
            f"Could not connect to the model server at {self.base_url} ({exc}). Is the server running at that "
            "URL? Start one, e.g. vLLM: `vllm serve /models/merged --served-model-name "
            f"{self.model_name} --port 8000`; Ollama: `ollama serve` (port 11434); llama.cpp: `llama-server -m "
            "model.gguf --port 8080`. Then check the spec openai:BASE_URL#MODEL_NAME (BASE_URL usually ends in /v1)."
        )

    def _transport_error(self, exc: Exception) -> ModelError:
        import httpx

        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
            return self._connect_help(exc)
        if isinstance(exc, httpx.TimeoutException):
            return ModelError(
                f"The model server at {self.base_url} sent nothing for {self.options.timeout_s:g} s "
                f"({type(exc).__name__}). It may be overloaded or the answer too long: raise the option "
                "timeout_s or lower max_new_tokens / samples."
            )
        return ModelError(f"The connection to the model server at {self.base_url} failed: {exc!r}.")

    def _status_error(self, status: int, text: str, path: str) -> ModelError:
        msg = _server_message(status, text)
        url = f"{self.base_url}{path}"
        if status in (401, 403):
            return ServerError(
                f"The server at {self.base_url} refused the API key (HTTP {status}: {msg}). Set "
                "CIRCUIT_MUSE_API_KEY (or OPENAI_API_KEY) to a key it accepts, or pass the api_key option.",
                status=status,
            )
        if status == 404 and path != "/models":
            served: list[str] | None
            try:
                served = self.list_models()
            except ModelError:
                served = None
            if served is not None and self.model_name not in served:
                return ServerError(
                    f"The server at {self.base_url} does not serve a model named {self.model_name!r} "
                    f"(HTTP 404: {msg}). It serves: {', '.join(served) or '(nothing)'}. Use "
                    f"openai:{self.base_url}#{served[0] if served else 'MODEL_NAME'}.",
                    status=status,
                )
            return ServerError(
                f"HTTP 404 from {url}: {msg}. Check the base URL in the spec (it usually ends in /v1).",
                status=status,
            )
        if status == 429:
            return ServerError(
                f"The server at {self.base_url} is rate-limiting (HTTP 429: {msg}) and still was after "
                f"{self.options.max_retries} retries. Wait, lower the number of samples, or raise max_retries.",
                status=status,
            )
        if status >= 500:
            return ServerError(
                f"The model server at {self.base_url} failed (HTTP {status}: {msg}) after "
                f"{self.options.max_retries} retries. Check the server's log.",
                status=status,
            )
        return ServerError(f"The server at {url} rejected the request (HTTP {status}): {msg}", status=status)

    def _body(self, request: GenerationRequest, n: int, seed: int | None, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model_name,
            "messages": [m.to_dict() for m in request.messages],
            "max_tokens": request.max_new_tokens,
        }
        if n != 1:
            body["n"] = n
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.top_p is not None:
            body["top_p"] = request.top_p
        if seed is not None:
            body["seed"] = seed
        if request.stop:
            body["stop"] = list(request.stop)
        if stream:
            body["stream"] = True
            if self.options.stream_usage:
                body["stream_options"] = {"include_usage": True}
        if self.options.extra_body:
            body.update(self.options.extra_body)
        return body

    def _call(self, body: dict[str, Any], want: int, emit: _Emit, cancel: threading.Event) -> _CallResult:
        """One request with bounded retries. Raises ModelError."""
        import httpx

        o = self.options
        attempt = 0
        emitted = [False]

        def tracking_emit(i: int, text: str) -> None:
            emitted[0] = True
            emit(i, text)

        while True:
            try:
                if body.get("stream"):
                    return self._stream_once(body, want, tracking_emit, cancel)
                return self._post_once(body, want)
            except _NotRetryable as exc:
                raise exc.error from None
            except (_Retryable, httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError,
                    httpx.ReadError, httpx.WriteError) as exc:
                if emitted[0]:
                    raise ModelError(
                        f"The model server at {self.base_url} broke off a streamed answer ({exc}); "
                        "it cannot be retried once text was passed on. Try again."
                    ) from exc
                status = getattr(exc, "status", None)
                if attempt >= o.max_retries or cancel.is_set():
                    if isinstance(exc, _Retryable):
                        raise self._status_error(status or 0, str(exc), "/chat/completions") from None
                    raise self._transport_error(exc) from exc
                delay = min(o.max_backoff_s, o.backoff_s * (2**attempt))
                retry_after = getattr(exc, "retry_after", None)
                if retry_after is not None:
                    delay = min(o.max_backoff_s, max(delay, retry_after))
                delay += random.uniform(0, delay * 0.1)
                log.warning(
                    "model server %s: %s; retry %d of %d in %.2f s", self.base_url,
                    f"HTTP {status}" if status else type(exc).__name__, attempt + 1, o.max_retries, delay,
                )
                if cancel.wait(delay):
                    raise _Cancelled() from None
                attempt += 1
            except httpx.TimeoutException as exc:
                raise self._transport_error(exc) from exc

    @staticmethod
    def _retry_after(resp: Any) -> float | None:
        value = resp.headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            return None

    def _check_status(self, resp: Any, text: str) -> None:
        if resp.status_code == 200:
            return
        if resp.status_code in RETRY_STATUS:
            raise _Retryable(text, status=resp.status_code, retry_after=self._retry_after(resp))
        raise _NotRetryable(self._status_error(resp.status_code, text, "/chat/completions"))

    def _post_once(self, body: dict[str, Any], want: int) -> _CallResult:
        resp = self.client.post(f"{self.base_url}/chat/completions", json=body)
        self._check_status(resp, resp.text)
        try:
            data = resp.json()
        except ValueError as exc:
            raise _NotRetryable(ModelError(f"The server at {self.base_url} sent a reply that is not JSON: "
                                           f"{resp.text[:200]!r}")) from exc
        if isinstance(data, dict) and "error" in data and not data.get("choices"):
            raise _NotRetryable(ServerError(f"The server at {self.base_url} answered with an error: "
                                            f"{_server_message(200, resp.text)}"))
        out = _CallResult()
        for pos, choice in enumerate(data.get("choices") or []):
            idx = choice.get("index", pos)
            if not isinstance(idx, int) or idx >= want or idx in out.choices:
                continue
            message = choice.get("message") or {}
            out.choices[idx] = message.get("content") or ""
            out.finish[idx] = choice.get("finish_reason")
        usage = data.get("usage") or {}
        out.prompt_tokens = usage.get("prompt_tokens")
        out.completion_tokens = usage.get("completion_tokens")
        return out

    def _stream_once(self, body: dict[str, Any], want: int, emit: _Emit, cancel: threading.Event) -> _CallResult:
        out = _CallResult()
        with self.client.stream("POST", f"{self.base_url}/chat/completions", json=body) as resp:
            if resp.status_code != 200:
                resp.read()
                self._check_status(resp, resp.text)
            data_lines: list[str] = []

            def dispatch() -> bool:
                payload = "\n".join(data_lines).strip()
                data_lines.clear()
                if not payload:
                    return False
                if payload == "[DONE]":
                    return True
                try:
                    event = json.loads(payload)
                except ValueError:
                    log.debug("ignoring a non-JSON SSE event: %r", payload[:200])
                    return False
                if isinstance(event, dict) and event.get("error"):
                    raise _NotRetryable(ServerError(
                        f"The server at {self.base_url} reported an error mid-stream: "
                        f"{_server_message(200, json.dumps(event))}"
                    ))
                for choice in event.get("choices") or []:
                    idx = choice.get("index", 0)
                    if not isinstance(idx, int) or idx >= want:
                        continue
                    out.choices.setdefault(idx, "")
                    delta = choice.get("delta") or {}
                    text = delta.get("content") or ""
                    if text:
                        out.choices[idx] += text
                        out.chunks[idx] = out.chunks.get(idx, 0) + 1
                        emit(idx, text)
                    if choice.get("finish_reason") is not None:
                        out.finish[idx] = choice["finish_reason"]
                usage = event.get("usage")
                if isinstance(usage, dict):
                    out.prompt_tokens = usage.get("prompt_tokens", out.prompt_tokens)
                    out.completion_tokens = usage.get("completion_tokens", out.completion_tokens)
                return False

            for line in resp.iter_lines():
                if cancel.is_set():
                    raise _Cancelled()
                if line == "":
                    if dispatch():
                        break
                    continue
                if line.startswith(":"):
                    continue  # SSE comment / keep-alive
                name, _, value = line.partition(":")
                if name == "data":
                    data_lines.append(value[1:] if value.startswith(" ") else value)
            else:
                dispatch()
        return out

    # ---------------------------------------------------------------- the interface

    def stream(self, request: GenerationRequest, on_chunk: ChunkCallback | None = None) -> GenerationResult:
        request.validate()
        n = request.n
        streaming = on_chunk is not None
        t0 = time.monotonic()
        first_chunk_at: list[float | None] = [None]
        cancel = threading.Event()
        texts: dict[int, str] = {}
        finish: dict[int, str | None] = {}
        tokens: dict[int, int] = {}
        prompt_tokens: list[int | None] = [None]

        def deliver(index: int, text: str) -> None:
            if first_chunk_at[0] is None:
                first_chunk_at[0] = time.monotonic() - t0
            assert on_chunk is not None
            on_chunk(Chunk(index=index, text=text))

        def record(result: _CallResult, offset: int) -> int:
            got = sorted(result.choices)
            counts = _split_tokens(result, got)
            for local in got:
                texts[offset + local] = result.choices[local]
                finish[offset + local] = result.finish.get(local)
                tokens[offset + local] = counts[local]
            if prompt_tokens[0] is None and result.prompt_tokens is not None:
                prompt_tokens[0] = int(result.prompt_tokens)
            return len(got)

        got = 0
        if n == 1 or self._n_supported is not False:
            body = self._body(request, n, request.seed, streaming)
            try:
                result = self._call(body, n, deliver if streaming else _ignore, cancel)
            except ServerError as exc:
                if n > 1 and exc.status in (400, 422):
                    log.warning("server at %s refused n=%d (%s); sending %d single requests", self.base_url, n,
                                exc, n)
                    self._n_supported = False
                    result = _CallResult()
                else:
                    raise
            got = record(result, 0)
            if n > 1 and 0 < got < n:
                log.info("server at %s returned %d of %d choices; fanning out the rest", self.base_url, got, n)
                self._n_supported = False
            elif n > 1 and got == n:
                self._n_supported = True

        todo = [i for i in range(n) if i not in texts]
        if todo:
            self._fan_out(request, todo, streaming, deliver, record, cancel)

        missing = [i for i in range(n) if i not in texts]
        if missing:
            raise ModelError(f"The server at {self.base_url} returned no completion for sample(s) {missing}.")
        completions = [Completion(index=i, text=texts[i], completion_tokens=tokens[i], finish_reason=finish[i])
                       for i in range(n)]
        return GenerationResult(
            completions=completions,
            prompt_tokens=prompt_tokens[0] or 0,
            duration_s=time.monotonic() - t0,
            time_to_first_token_s=first_chunk_at[0],
            model=self.spec,
        )

    def _fan_out(self, request: GenerationRequest, indexes: list[int], streaming: bool,
                 deliver: Callable[[int, str], None], record: Callable[[_CallResult, int], int],
                 cancel: threading.Event) -> None:
        """Send the samples `indexes` as concurrent single requests; callbacks run in this thread."""
        events: queue.Queue[tuple[str, int, Any]] = queue.Queue()

        def worker(index: int) -> None:
            seed = None if request.seed is None else request.seed + index
            body = self._body(request, 1, seed, streaming)
            try:
                result = self._call(body, 1, lambda _i, text: events.put(("text", index, text)), cancel)
            except _Cancelled:
                events.put(("cancelled", index, None))
            except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
                events.put(("error", index, exc))
            else:
                events.put(("done", index, result))

        pool = ThreadPoolExecutor(max_workers=min(self.options.max_concurrency, len(indexes)),
                                  thread_name_prefix="circuit-muse-openai")
        try:
            for index in indexes:
                pool.submit(worker, index)
            pending = set(indexes)
            while pending:
                kind, index, payload = events.get()
                if kind == "text":
                    if streaming:
                        deliver(index, payload)
                    continue
                pending.discard(index)
                if kind == "error":
                    cancel.set()
                    if isinstance(payload, ModelError):
                        raise payload
                    raise ModelError(f"A request to {self.base_url} failed: {payload!r}") from payload
                if kind == "done":
                    if record(payload, index) != 1:
                        raise ModelError(f"The server at {self.base_url} returned no choice for a single request.")
        except BaseException:
            cancel.set()
            raise
        finally:
            pool.shutdown(wait=not cancel.is_set(), cancel_futures=True)


def _ignore(_index: int, _text: str) -> None:
    pass


def _split_tokens(result: _CallResult, got: list[int]) -> dict[int, int]:
    """Per-choice token counts from one request's usage (see the module docstring)."""
    if not got:
        return {}
    total = result.completion_tokens
    if total is not None and len(got) == 1:
        return {got[0]: int(total)}
    if result.chunks:
        weights = {i: result.chunks.get(i, 0) for i in got}
    else:
        weights = {i: max(1, math.ceil(len(result.choices[i]) / 4)) if result.choices[i] else 0 for i in got}
    if total is None:
        return weights
    wsum = sum(weights.values())
    if wsum == 0:
        share = {i: 0 for i in got}
        share[got[0]] = int(total)
        return share
    # Largest-remainder rounding keeps the sum equal to the server's total.
    raw = {i: total * weights[i] / wsum for i in got}
    share = {i: int(math.floor(raw[i])) for i in got}
    rest = int(total) - sum(share.values())
    for i in sorted(got, key=lambda i: raw[i] - share[i], reverse=True)[:rest]:
        share[i] += 1
    return share
