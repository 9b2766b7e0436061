"""`circuit-muse serve`: the HTTP API and the web page (needs the [service] extra: fastapi, uvicorn)."""
from __future__ import annotations

import argparse
import os
import sys

from ..errors import InputError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("serve", help="serve the API and the web page over HTTP",
                       description="Serve /generate, /verify, /jobs (with live events) and the web page at /. "
                                   "Set CIRCUIT_MUSE_TOKEN (one token, or several comma-separated) to require "
                                   "'Authorization: Bearer'.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--model", help="hf:PATH or openai:BASE_URL#MODEL (default: $CIRCUIT_MUSE_MODEL, else the "
                                   "shipped nano model)")
    p.add_argument("--db", default="circuit_muse-service.sqlite3", help="SQLite file for jobs and events")
    p.add_argument("--workers", type=int, default=2, help="jobs that run at once (default 2)")
    p.add_argument("--queue", type=int, default=16, help="jobs that may wait; more get 429 (default 16)")
    p.add_argument("--cors", action="append", default=[], metavar="ORIGIN", help="allow this origin (repeatable)")
    p.add_argument("--max-body", type=int, default=1 << 20, help="request body cap in bytes (default 1 MiB)")
    p.add_argument("--max-prompt", type=int, default=8000, help="prompt cap in characters")
    p.add_argument("--max-rounds", type=int, default=6, help="per-job budget: rounds")
    p.add_argument("--max-samples", type=int, default=4, help="per-job budget: samples per round")
    p.add_argument("--max-seconds", type=float, default=300.0, help="per-job budget: wall seconds")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from ..service import ServiceConfig, create_app
        from ..service.config import tokens_from_env
    except ModuleNotFoundError as exc:
        raise InputError(f"serve needs the service extra ({exc.name} is missing): "
                         "pip install 'circuit-muse[service]'") from None
    for name in ("workers", "queue", "max_body", "max_prompt", "max_rounds", "max_samples"):
        if getattr(args, name) < 1:
            raise InputError(f"--{name.replace('_', '-')} must be >= 1")
    if not 0 <= args.port < 65536:
        raise InputError("--port must be between 0 (any free port) and 65535")
    tokens = tokens_from_env()
    if args.host not in ("127.0.0.1", "localhost", "::1") and not tokens:
        print(f"circuit-muse: warning: serving on {args.host} without CIRCUIT_MUSE_TOKEN: anyone who can reach "
              "this port can run jobs and see every job; set CIRCUIT_MUSE_TOKEN", file=sys.stderr)
    config = ServiceConfig(model=args.model, db_path=os.path.abspath(args.db), workers=args.workers,
                           max_queue=args.queue, tokens=tokens, cors_origins=tuple(args.cors),
                           max_body_bytes=args.max_body, max_prompt_chars=args.max_prompt,
                           max_rounds=args.max_rounds, max_samples=args.max_samples, max_job_seconds=args.max_seconds)
    app = create_app(config)
    print(f"circuit-muse: serving on http://{args.host}:{args.port}/ (API docs at /docs)", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=5)
    return 0
