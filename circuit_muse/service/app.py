"""The FastAPI application: routes, auth, limits, errors as JSON, the SSE stream and the web page."""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import CircuitMuseError, InputError, ModelError, ToolNotFound
from ..models.base import Model
from ..models.registry import get_model
from . import adapter
from .config import ServiceConfig, owner_of
from .db import JobRow, JobStore
from .jobs import JobManager, QueueFull
from .schemas import (
    ErrorBody,
    GenerateRequest,
    GenerateResponse,
    Health,
    JobInfo,
    JobList,
    JobRequest,
    ServerInfo,
    SuiteList,
    VerifyRequest,
)
from .waves import waveform_window

log = logging.getLogger("circuit_muse.service")
STATIC = Path(str(resources.files("circuit_muse.service") / "static"))
EXAMPLES = (
    "Design a 4-bit counter with enable and active-low async reset.",
    "Write a synchronous FIFO with 8-bit data and depth 16, with full and empty flags.",
    "Create a round-robin arbiter for 4 requesters.",
    "Design an 8-bit serial-in, parallel-out shift register with synchronous reset.",
    "Write an SVA assertion that req is followed by gnt within 3 cycles.",
    "Explain the difference between blocking and non-blocking assignments.",
)
_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid_request",
          429: "queue_full", 500: "internal", 502: "model_error", 503: "unavailable"}
ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorBody, "description": _CODES[s]}
                                           for s in (400, 401, 404, 413, 422, 429)}


class ApiError(HTTPException):
    """An HTTP error with a machine-readable code; rendered as {"error": {"code", "message"}}."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code=status, detail=message, headers=headers)
        self.code = code


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


class BodyLimit:
    """Refuse request bodies over `max_bytes`, whether announced by Content-Length or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        message = f"request body over {self.max_bytes} bytes; send less (the limit is --max-body)"
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await _error(413, "too_large", message)(scope, receive, send)
            return
        seen = 0

        async def limited() -> Any:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes:
                    raise ApiError(413, "too_large", message)
            return msg

        await self.app(scope, limited, send)


class Service:
    """What the routes share: config, the one model, the store, the job manager, the verify pool."""

    def __init__(self, config: ServiceConfig, model: Model) -> None:
        self.config = config
        self.model = model
        self.store = JobStore(config.db_path)
        self.jobs = JobManager(self.store, model, workers=config.workers, max_queue=config.max_queue,
                               max_seconds=config.max_job_seconds)
        self.verify_pool = ThreadPoolExecutor(max_workers=config.verify_concurrency, thread_name_prefix="cm-verify")
        self.verify_waiting = 0
        self._lock = threading.Lock()
        self._tools: dict[str, str] | None = None
        self.waves: dict[tuple[str, int, int], dict[str, Any] | None] = {}  # waveform re-runs, by candidate

    def tools(self) -> dict[str, str]:
        if self._tools is None:
            from ..tools.registry import versions

            try:
                self._tools = versions()
            except ToolNotFound as exc:
                return {"error": str(exc)}
        return self._tools


_BEARER = HTTPBearer(auto_error=False, description="CIRCUIT_MUSE_TOKEN, when the server has one")


def _owner(request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]) -> str:
    """Who is asking: the owner id of the bearer token (or 'anonymous' when the server has no token)."""
    tokens = request.app.state.service.config.tokens
    if not tokens:
        return owner_of(None)
    given = creds.credentials if creds is not None else ""
    for tok in tokens:
        if hmac.compare_digest(given.encode(), tok.encode()):
            return owner_of(tok)
    raise ApiError(401, "unauthorized", "missing or wrong bearer token: send 'Authorization: Bearer <token>' "
                   "with the token the server was started with (CIRCUIT_MUSE_TOKEN)",
                   headers={"WWW-Authenticate": "Bearer"})


Owner = Annotated[str, Depends(_owner)]


def _model_name(model: Model) -> str:
    spec = getattr(model, "spec", "") or ""
    return spec.rsplit("#", 1)[-1] if "#" in spec else spec


def create_app(config: ServiceConfig | None = None, model: Model | None = None) -> FastAPI:
    """Build the app. The model is built once here (weights load on first use) and shared by every job."""
    config = config or ServiceConfig()
    svc = Service(config, model or get_model(config.model))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc.jobs.start()
        try:
            yield
        finally:
            svc.jobs.stop()
            svc.verify_pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="circuit_muse", version="0.1.0", lifespan=lifespan,
                  description="Verilog from plain English, checked by lint, synthesis and simulation, live.")
    app.state.service = svc
    app.add_middleware(BodyLimit, max_bytes=config.max_body_bytes)
    if config.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(config.cors_origins), allow_credentials=False,
                           allow_methods=["GET", "POST", "DELETE"], allow_headers=["Authorization", "Content-Type",
                                                                                   "Last-Event-ID"])

    # ------------------------------------------------------------------ errors as JSON

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = getattr(exc, "code", None) or _CODES.get(exc.status_code, "error")
        return _error(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errs):
            return _error(400, "malformed_json", "the request body is not valid JSON")
        parts = []
        for e in errs[:5]:
            where = ".".join(str(x) for x in e.get("loc", ()) if x != "body") or "body"
            parts.append(f"{where}: {e.get('msg')}")
        return _error(422, "invalid_request", "; ".join(parts))

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: InputError) -> JSONResponse:
        return _error(400, "bad_input", str(exc))

    @app.exception_handler(CircuitMuseError)
    async def engine_error(request: Request, exc: CircuitMuseError) -> JSONResponse:
        return _error(502 if isinstance(exc, ModelError) else 500, "model_error" if isinstance(exc, ModelError)
                      else "engine_error", f"{type(exc).__name__}: {exc}")

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error(500, "internal", "internal error; the server log has the details")

    # ------------------------------------------------------------------ auth


    def own_job(job_id: str, who: str) -> JobRow:
        job = svc.store.get(job_id)
        if job is None or (config.tokens and job.owner != who):
            raise ApiError(404, "not_found", f"no job {job_id!r} (it does not exist or belongs to another token)")
        return job

    def job_info(job: JobRow) -> JobInfo:
        return JobInfo(id=job.id, state=job.state, prompt=job.prompt, settings=job.settings,  # type: ignore[arg-type]
                       created=job.created, started=job.started, finished=job.finished, events=job.last_seq,
                       result=job.result, error=job.error)

    def settings_for(req: JobRequest) -> dict[str, Any]:
        if len(req.prompt) > config.max_prompt_chars:
            raise ApiError(413, "prompt_too_long", f"the prompt has {len(req.prompt)} characters; the limit is "
                           f"{config.max_prompt_chars}")
        if req.model and req.model not in (_model_name(svc.model), svc.model.spec):
            raise ApiError(400, "unknown_model", f"this server serves {_model_name(svc.model)!r} only")
        rounds = req.rounds or config.default_rounds
        samples = req.samples or config.default_samples
        if rounds > config.max_rounds or samples > config.max_samples:
            raise ApiError(422, "over_budget", f"a job may use at most {config.max_rounds} rounds and "
                           f"{config.max_samples} samples per round")
        if req.testbench is not None and len(req.testbench) > config.max_source_chars:
            raise ApiError(413, "too_large", f"testbench over {config.max_source_chars} characters")
        return {"rounds": rounds, "samples": samples, "temperature": req.temperature, "seed": req.seed,
                "max_seconds": min(req.max_seconds or config.max_job_seconds, config.max_job_seconds),
                "max_new_tokens": req.max_new_tokens, "task": req.task,
                "testbench": req.testbench_name if req.testbench else None,
                "suite": None if req.testbench else adapter.matched_suite(req.prompt)}

    def submit(req: JobRequest, who: str) -> JobRow:
        settings = settings_for(req)
        tb = adapter.uploaded_testbench(req.testbench, req.testbench_name) if req.testbench else None
        try:
            return svc.jobs.submit(who, req.prompt, settings, tb)
        except QueueFull as exc:
            raise ApiError(429, "queue_full", str(exc), headers={"Retry-After": str(exc.retry_after)}) from None

    async def wait_terminal(job_id: str) -> JobRow:
        ev = svc.jobs.wait_change(job_id)
        try:
            while True:
                ev.clear()
                job = await asyncio.to_thread(svc.store.get, job_id)
                assert job is not None
                if job.terminal:
                    return job
                try:
                    await asyncio.wait_for(ev.wait(), timeout=5)
                except TimeoutError:
                    pass
        finally:
            svc.jobs.forget(job_id, ev)

    # ------------------------------------------------------------------ routes

    @app.get("/health", response_model=Health, tags=["compat"])
    def health() -> Health:
        """Liveness, the model, tool versions and the queue (no token needed)."""
        return Health(status="ok", model=_model_name(svc.model), tools=svc.tools(), queue_depth=svc.jobs.depth,
                      running=svc.jobs.active, workers=config.workers)

    @app.get("/info", response_model=ServerInfo, responses=ERRORS, tags=["page"])
    def info(who: Owner) -> ServerInfo:
        """What the page needs: the model, whether a token is required, the budget, example prompts."""
        return ServerInfo(model=_model_name(svc.model), auth=bool(config.tokens), examples=list(config.examples or EXAMPLES),
                          limits={"max_rounds": config.max_rounds, "max_samples": config.max_samples,
                                  "max_prompt_chars": config.max_prompt_chars, "max_job_seconds": config.max_job_seconds,
                                  "default_rounds": config.default_rounds, "default_samples": config.default_samples})

    @app.post("/generate", response_model=GenerateResponse, responses={**ERRORS, 502: {"model": ErrorBody}},
              tags=["compat"])
    async def generate(body: GenerateRequest, who: Owner) -> GenerateResponse:
        """The original frontend's endpoint: waits for the job and answers {"output": <verilog>, ...}."""
        prompt = body.prompt or body.instruction
        if not prompt or not prompt.strip():
            raise ApiError(422, "invalid_request", "send {\"prompt\": \"...\"} or {\"instruction\": \"...\"}")
        job = await asyncio.to_thread(submit, JobRequest(prompt=prompt, rounds=body.rounds, samples=body.samples), who)
        job = await wait_terminal(job.id)
        res = job.result or {}
        if job.state == "failed" and not res:
            raise ApiError(502, "model_error", job.error or "the job failed before producing code")
        return GenerateResponse(output=res.get("verilog") or res.get("text") or "", passed=bool(res.get("passed")),
                                level=res.get("level"), rounds=int(res.get("rounds_used") or 0),
                                report=res.get("report"), job_id=job.id, state=job.state)  # type: ignore[arg-type]

    @app.post("/verify", responses=ERRORS, tags=["verify"])
    async def verify(body: VerifyRequest, who: Owner) -> dict[str, Any]:
        """Check Verilog against a suite, a reference or an uploaded testbench; returns the report."""
        for name in ("verilog", "reference", "testbench"):
            text = getattr(body, name)
            if text is not None and len(text) > config.max_source_chars:
                raise ApiError(413, "too_large", f"{name} over {config.max_source_chars} characters")
        if sum(x is not None for x in (body.suite, body.reference, body.testbench)) > 1:
            raise ApiError(422, "invalid_request", "choose one of suite, reference and testbench")
        if body.suite:
            tb = adapter.suite_testbench(body.suite, body.params)
        elif body.reference:
            tb = adapter.reference_testbench(body.reference)
        elif body.testbench:
            tb = adapter.uploaded_testbench(body.testbench, body.testbench_name)
        else:
            tb = None
        with svc._lock:
            if svc.verify_waiting >= config.verify_concurrency + config.max_queue:
                raise ApiError(429, "queue_full", "too many verifications waiting; retry shortly",
                               headers={"Retry-After": "2"})
            svc.verify_waiting += 1
        try:
            loop = asyncio.get_running_loop()
            rep = await loop.run_in_executor(svc.verify_pool, lambda: adapter.run_verify(
                body.verilog, testbench=tb, top=body.top, simulator=body.simulator))
        finally:
            with svc._lock:
                svc.verify_waiting -= 1
        return adapter.report_dict(rep) or {}

    @app.get("/suites", response_model=SuiteList, responses=ERRORS, tags=["verify"])
    def suites(who: Owner) -> SuiteList:
        """The built-in suites (families, variants, parameters) for POST /verify."""
        from ..suites import list_suites

        return SuiteList(suites=list_suites())

    @app.post("/jobs", response_model=JobInfo, status_code=202, responses=ERRORS, tags=["jobs"])
    def create_job(body: JobRequest, who: Owner) -> JobInfo:
        """Start a job; answers at once with its id. Follow it at /jobs/{id}/events."""
        return job_info(submit(body, who))

    @app.get("/jobs", response_model=JobList, responses=ERRORS, tags=["jobs"])
    def list_jobs(who: Owner, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> JobList:
        """Recent jobs of this token (all jobs when the server has no token)."""
        rows = svc.store.list(who if config.tokens else None, limit)
        return JobList(jobs=[job_info(j).model_copy(update={"result": None}) for j in rows])

    @app.get("/jobs/{job_id}", response_model=JobInfo, responses=ERRORS, tags=["jobs"])
    def get_job(job_id: str, who: Owner) -> JobInfo:
        """A job's state (queued, running, passed, failed, cancelled, interrupted) and, once done, its result."""
        return job_info(own_job(job_id, who))

    @app.delete("/jobs/{job_id}", response_model=JobInfo, responses=ERRORS, tags=["jobs"])
    def cancel_job(job_id: str, who: Owner) -> JobInfo:
        """Cancel (idempotent): kills the job's tool processes; the stream ends with one `done` event."""
        own_job(job_id, who)
        job = svc.jobs.cancel(job_id)
        assert job is not None
        return job_info(job)

    @app.get("/jobs/{job_id}/events", responses={**ERRORS, 200: {"content": {"text/event-stream": {}},
                                                                 "description": "server-sent events"}},
             response_class=StreamingResponse, tags=["jobs"])
    async def job_events(job_id: str, who: Owner,
                         last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
                         after: Annotated[int | None, Query(ge=0, description="same as Last-Event-ID")] = None
                         ) -> StreamingResponse:
        """Server-sent events with increasing ids; reconnect with Last-Event-ID to get exactly what you missed."""
        await asyncio.to_thread(own_job, job_id, who)
        start = after if after is not None else int(last_event_id) if (last_event_id or "").isdigit() else 0
        return StreamingResponse(_stream(job_id, start), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def _stream(job_id: str, last: int) -> AsyncIterator[str]:
        ev = svc.jobs.wait_change(job_id)
        try:
            yield "retry: 1000\n\n"
            while True:
                ev.clear()
                rows = await asyncio.to_thread(svc.store.events_after, job_id, last)
                for r in rows:
                    payload = json.dumps({"seq": r.seq, "type": r.type, "round": r.round, "data": r.data})
                    yield f"id: {r.seq}\nevent: {r.type}\ndata: {payload}\n\n"
                    last = r.seq
                    if r.type == "done":
                        return
                if rows:
                    continue
                job = await asyncio.to_thread(svc.store.get, job_id)
                if job is None or (job.terminal and job.last_seq <= last):
                    return
                try:
                    await asyncio.wait_for(ev.wait(), timeout=10)
                except TimeoutError:
                    yield ": keep-alive\n\n"
        finally:
            svc.jobs.forget(job_id, ev)

    @app.get("/jobs/{job_id}/waveform", responses=ERRORS, tags=["jobs"])
    def waveform(job_id: str, who: Owner, round: Annotated[int, Query(ge=1, le=1000)],  # noqa: A002
                 index: Annotated[int, Query(ge=0, le=1000)] = 0) -> dict[str, Any]:
        """WaveDrom JSON of a failing candidate's simulation, around its first mismatching cycle."""
        own_job(job_id, who)
        report = None
        for e in svc.store.events_after(job_id, 0, limit=100_000):
            if e.type == "candidate" and e.round == round and e.data.get("index") == index:
                report = e.data.get("report")
        sim = next((s.get("simulation") for s in (report or {}).get("stages", []) if s.get("simulation")), None)
        job = svc.store.get(job_id)
        key = (job_id, round, index)
        if sim and not sim.get("vcd_path") and report and not report.get("passed") and job and job.settings.get("suite"):
            if key not in svc.waves:
                if len(svc.waves) >= 256:
                    svc.waves.pop(next(iter(svc.waves)))  # keep the most recent re-runs only
                svc.waves[key] = adapter.rerun_for_waveform(report.get("source") or "", job.settings["suite"])
            sim = svc.waves[key] or sim
        from ..engine.options import default_waves_dir

        vcd = Path(sim["vcd_path"]).resolve() if sim and sim.get("vcd_path") else None
        if vcd is None or not vcd.is_relative_to(Path(default_waves_dir()).resolve()):
            raise ApiError(404, "not_found", f"round {round} candidate {index} of job {job_id} has no waveform")
        try:
            return waveform_window(vcd, sim.get("mismatches") or [])  # type: ignore[union-attr]
        except (FileNotFoundError, ValueError) as exc:
            raise ApiError(404, "not_found", f"waveform unavailable: {exc}") from None

    # ------------------------------------------------------------------ the page

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        page = STATIC / "index.html"
        if not page.is_file():
            raise ApiError(404, "not_found", "the web page is not built: run `npm ci && npm run build` in web/")
        return FileResponse(page, media_type="text/html")

    if (STATIC / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=STATIC / "assets"), name="assets")
    return app
