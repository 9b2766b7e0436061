"""schemathesis against the served OpenAPI schema: no 5xx, and every response matches the schema."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.service_support import ServeProcess
from tests.support.scripted_openai import ScriptedOpenAIServer

pytestmark = pytest.mark.simulator
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


def test_the_api_honours_its_own_schema(tmp_path: Path) -> None:
    with ScriptedOpenAIServer(["no code in this answer"]) as model, \
            ServeProcess(model.spec(), tmp_path / "jobs.sqlite3", extra=["--queue", "4"]) as srv:
        run = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "run", f"{srv.url}/openapi.json", "--checks", CHECKS,
             "--max-examples", "5", "--phases", "fuzzing,stateful", "--generation-deterministic", "--no-color",
             "--exclude-path", "/generate", "--request-timeout", "30"],  # /generate blocks until its job ends
            capture_output=True, text=True, timeout=300, cwd=tmp_path)  # its .schemathesis/ cache goes there
        log = (tmp_path / "schemathesis.log")
        log.write_text(run.stdout + run.stderr)
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
        cases = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
        assert cases and int(cases.group(1)) >= 20 and cases.group(1) == cases.group(2), run.stdout[-2000:]
        assert "Operations:       10 selected" in run.stdout
        # the schema itself is served, and so are the docs
        assert httpx.get(srv.url + "/docs").status_code == 200
        spec = httpx.get(srv.url + "/openapi.json").json()
        assert {"/jobs", "/jobs/{job_id}/events", "/verify", "/generate", "/health"} <= set(spec["paths"])
