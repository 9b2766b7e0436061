"""A scripted OpenAI-compatible server on real HTTP loopback (stdlib http.server in a thread).

    with ScriptedOpenAIServer(["module bad;", "module good; endmodule"]) as server:
        model = get_model(server.spec)          # "openai:http://127.0.0.1:PORT/v1#scripted"
        ...
        server.chat_requests[-1].messages       # what the client sent

It serves ``GET /v1/models``, ``GET /health`` and ``POST /v1/chat/completions`` (``n``, ``max_tokens``,
``stop``, ``stream`` with SSE and ``stream_options.include_usage``), and records every request.

Replies: either a list of texts, handed out one per generated choice in order (the last repeats once the
list runs out; `enqueue` adds more), or a callable ``responder(body, choice_index) -> str`` that sees the
request body (for example to answer differently once feedback arrives).

Misbehaviour on demand: ``max_choices`` (return fewer choices than ``n``, like Ollama), ``reject_n`` (HTTP 400
for ``n > 1``, like older llama.cpp), ``fail_times``/``fail_status``/``retry_after`` (fail the first N chat
requests), ``delay_s`` (sleep before answering, for timeouts), ``chunk_delay_s`` (between streamed chunks),
``api_key`` (require this bearer key, else 401).
"""
from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Responder = Callable[[dict[str, Any], int], str]

_PIECE = re.compile(r"\s*\S+|\s+")


def pieces(text: str) -> list[str]:
    """How the server splits text into 'tokens': each piece is leading whitespace plus one word."""
    return _PIECE.findall(text)


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    time: float = field(default_factory=time.monotonic)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages", []))


class ScriptedOpenAIServer:
    def __init__(
        self,
        replies: Sequence[str] | Responder = ("module top(input a, output y);\n  assign y = a;\nendmodule\n",),
        *,
        models: Sequence[str] = ("scripted",),
        max_choices: int | None = None,
        reject_n: bool = False,
        fail_times: int = 0,
        fail_status: int = 503,
        retry_after: float | None = None,
        delay_s: float = 0.0,
        chunk_delay_s: float = 0.0,
        api_key: str | None = None,
        finish_reason: str = "stop",
    ) -> None:
        self._responder: Responder | None = replies if callable(replies) else None
        self._replies: list[str] = [] if callable(replies) else list(replies)
        self.models = list(models)
        self.max_choices = max_choices
        self.reject_n = reject_n
        self.fail_times = fail_times
        self.fail_status = fail_status
        self.retry_after = retry_after
        self.delay_s = delay_s
        self.chunk_delay_s = chunk_delay_s
        self.api_key = api_key
        self.finish_reason = finish_reason
        self.requests: list[RecordedRequest] = []
        self.failures_sent = 0
        self.in_flight = 0
        self.max_in_flight = 0  # most chat requests being answered at once (concurrency, not timing)
        self._served = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> ScriptedOpenAIServer:
        server = self

        class Handler(_Handler):
            owner = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="scripted-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ScriptedOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "start() the server first"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def spec(self, model: str | None = None) -> str:
        return f"openai:{self.url}#{model or self.models[0]}"

    # ------------------------------------------------------------------ script

    def enqueue(self, *texts: str) -> None:
        with self._lock:
            self._replies.extend(texts)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def _next_text(self, body: dict[str, Any], index: int) -> str:
        if self._responder is not None:
            return self._responder(body, index)
        with self._lock:
            if not self._replies:
                return ""
            text = self._replies[self._served] if self._served < len(self._replies) else self._replies[-1]
            self._served += 1
            return text

    def _record(self, req: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(req)

    def _take_failure(self) -> bool:
        with self._lock:
            if self.failures_sent < self.fail_times:
                self.failures_sent += 1
                return True
            return False


def _finish(text: str, body: dict[str, Any], default: str) -> tuple[list[str], str]:
    stops = body.get("stop") or []
    if isinstance(stops, str):
        stops = [stops]
    finish = default
    cut = min((text.find(s) for s in stops if s and s in text), default=-1)
    if cut >= 0:
        text, finish = text[:cut], "stop"
    parts = pieces(text)
    limit = body.get("max_tokens") or body.get("max_completion_tokens")
    if isinstance(limit, int) and len(parts) > limit:
        parts, finish = parts[:limit], "length"
    return parts, finish


class _Handler(BaseHTTPRequestHandler):
    owner: ScriptedOpenAIServer
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    # -------------------------------------------------------------- helpers

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._json(status, {"error": {"message": message, "type": "scripted_error", "code": status}}, headers)

    def _authorised(self) -> bool:
        want = self.owner.api_key
        if want is None:
            return True
        if self.headers.get("Authorization") == f"Bearer {want}":
            return True
        self._error(401, "Incorrect API key provided.")
        return False

    # -------------------------------------------------------------- routes

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self.owner._record(RecordedRequest("GET", self.path, dict(self.headers.items()), None))
        if self.path.rstrip("/") == "/health":
            self._json(200, {"status": "ok"})
        elif self.path.rstrip("/") == "/v1/models":
            if self._authorised():
                self._json(200, {"object": "list", "data": [
                    {"id": m, "object": "model", "owned_by": "scripted"} for m in self.owner.models
                ]})
        else:
            self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        self.owner._record(RecordedRequest("POST", self.path, dict(self.headers.items()), body))
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._error(404, f"no route {self.path}")
            return
        if not isinstance(body, dict):
            self._error(400, "body is not JSON")
            return
        if not self._authorised():
            return
        owner = self.owner
        with owner._lock:
            owner.in_flight += 1
            owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
        try:
            stopped = bool(owner.delay_s) and owner._stopping.wait(owner.delay_s)
        finally:
            with owner._lock:
                owner.in_flight -= 1
        if stopped:
            return
        if owner._take_failure():
            headers = {"Retry-After": str(owner.retry_after)} if owner.retry_after is not None else None
            self._error(owner.fail_status, f"scripted failure {owner.failures_sent} of {owner.fail_times}", headers)
            return
        if body.get("model") not in owner.models:
            self._error(404, f"The model `{body.get('model')}` does not exist.")
            return
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            self._error(400, "messages must be a non-empty list")
            return
        n = body.get("n", 1)
        if not isinstance(n, int) or n < 1:
            self._error(400, "n must be a positive integer")
            return
        if owner.reject_n and n > 1:
            self._error(400, "only one completion per request is supported (n must be 1)")
            return
        k = n if owner.max_choices is None else min(n, owner.max_choices)
        choices = [_finish(owner._next_text(body, i), body, owner.finish_reason) for i in range(k)]
        prompt_tokens = sum(len(pieces(str(m.get("content", "")))) for m in body["messages"])
        completion_tokens = sum(len(parts) for parts, _ in choices)
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                 "total_tokens": prompt_tokens + completion_tokens}
        created = int(time.time())
        cid = f"chatcmpl-scripted-{len(owner.requests)}"
        if body.get("stream"):
            self._stream(body, choices, usage, cid, created)
            return
        self._json(200, {
            "id": cid, "object": "chat.completion", "created": created, "model": body["model"],
            "choices": [
                {"index": i, "message": {"role": "assistant", "content": "".join(parts)}, "finish_reason": fin}
                for i, (parts, fin) in enumerate(choices)
            ],
            "usage": usage,
        })

    def _stream(self, body: dict[str, Any], choices: list[tuple[list[str], str]], usage: dict[str, int],
                cid: str, created: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        model = body["model"]

        def send(payload: Any) -> None:
            text = payload if isinstance(payload, str) else json.dumps(payload)
            self.wfile.write(f"data: {text}\n\n".encode())
            self.wfile.flush()

        def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                    "choices": [{"index": index, "delta": delta, "finish_reason": finish}]}

        self.wfile.write(b": scripted keep-alive\n\n")
        for i in range(len(choices)):
            send(chunk(i, {"role": "assistant", "content": ""}))
        longest = max((len(parts) for parts, _ in choices), default=0)
        for step in range(longest):  # interleave choices the way vLLM does
            for i, (parts, _) in enumerate(choices):
                if step < len(parts):
                    if self.owner.chunk_delay_s and self.owner._stopping.wait(self.owner.chunk_delay_s):
                        return
                    send(chunk(i, {"content": parts[step]}))
        for i, (_, fin) in enumerate(choices):
            send(chunk(i, {}, fin))
        if (body.get("stream_options") or {}).get("include_usage"):
            send({"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                  "choices": [], "usage": usage})
        send("[DONE]")
