"""The OS sandbox around every tool call: real bubblewrap, real processes, real loopback sockets."""
from __future__ import annotations

import os
import secrets
import socket
import sys
import textwrap
import time
from pathlib import Path

import pytest

import circuit_muse as cm
from circuit_muse.errors import InputError, ToolNotFound
from circuit_muse.tools import sandbox
from circuit_muse.tools.sandbox import Limits

pytestmark = pytest.mark.simulator
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _bwrap_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test here demands the real sandbox: a machine without it fails loudly instead of passing."""
    monkeypatch.setenv(sandbox.MODE_ENV, "bwrap")
    assert not sandbox.isolation().degraded


def _sh(script: str, work: Path, **limits: float) -> sandbox.ProcessResult:
    return sandbox.run(["sh", "-c", script], cwd=work, limits=Limits(**{"wall_s": 30, **limits}))  # type: ignore[arg-type]


def test_cannot_write_outside_its_workdir() -> None:
    token = secrets.token_hex(6)
    host_tmp = Path(f"/tmp/cm-canary-{token}")
    in_repo = REPO / f"cm-canary-{token}"
    with sandbox.workdir() as work:
        res = _sh(f"echo x > {host_tmp}; echo x > {in_repo}; echo x > /usr/cm-{token}; echo ok > inside", work)
        assert (work / "inside").read_text() == "ok\n"
    assert "Read-only file system" in res.stderr
    assert not host_tmp.exists() and not in_repo.exists() and not Path(f"/usr/cm-{token}").exists()


def test_other_work_directories_are_invisible() -> None:
    with sandbox.workdir() as other, sandbox.workdir() as work:
        (other / "secret").write_text("nonce")
        res = _sh(f"cat {other}/secret; ls {other.parent}", work)
        assert "nonce" not in res.stdout and other.name not in res.stdout
        assert "No such file" in res.stderr


def test_no_network_even_to_a_loopback_server_on_the_host() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # the server is reachable from outside the sandbox
        code = textwrap.dedent(f"""
            import socket
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=3)
                print("CONNECTED")
            except OSError as exc:
                print("refused", exc)
        """)
        with sandbox.workdir() as work:
            res = sandbox.run([sys.executable, "-c", code], cwd=work, limits=Limits(wall_s=30))
    finally:
        server.close()
    assert "refused" in res.stdout and "CONNECTED" not in res.stdout


def test_runs_as_an_unprivileged_uid_of_its_own() -> None:
    """Root callers: each work directory holds a uid from the sandbox range (gid 65534), kept for every call
    under it, and no other live work directory shares it. Others: uid 65534 inside a user namespace."""
    with sandbox.workdir() as work, sandbox.workdir() as other:
        first, again, elsewhere = (_sh("id -u; id -g", d).stdout.split() for d in (work, work, other))
    assert first == again and first[1] == elsewhere[1] == "65534"
    if os.geteuid() == 0:
        base, count = sandbox._uid_range()
        assert base <= int(first[0]) < base + count and base <= int(elsewhere[0]) < base + count
        assert first[0] != elsewhere[0]
    else:
        assert first[0] == "65534"


@pytest.mark.skipif(os.geteuid() != 0, reason="distinct uids per run need a root caller (CI runs as root)")
def test_a_fork_bomb_in_one_run_does_not_starve_other_runs(tmp_path: Path) -> None:
    """RLIMIT_NPROC counts every process of a uid. With one shared sandbox uid, a bomb that filled its limit
    left every other run on the host (the same verify_many batch, another CI job) unable to start a tool:
    a known-good design failed lint with "sh: Cannot fork". Each run now has a uid of its own."""
    import threading

    from circuit_muse.testbench import ReferenceTestbench

    bomb = textwrap.dedent("""
        import os, time
        n = 0
        try:
            while n < 5000:
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                n += 1
        except OSError:
            pass
        open("filled", "w").write(str(n))
        while not os.path.exists("stop"):
            time.sleep(0.05)
    """)
    done: list[sandbox.ProcessResult] = []
    with sandbox.workdir() as work:
        thread = threading.Thread(target=lambda: done.append(
            sandbox.run([sys.executable, "-c", bomb], cwd=work, limits=Limits(wall_s=40))))
        thread.start()
        try:
            for _ in range(300):
                if (work / "filled").exists():
                    break
                time.sleep(0.1)
            assert (work / "filled").exists(), "the bomb never filled its process limit"
            assert int((work / "filled").read_text()) >= Limits().processes - 8
            src = (REPO / "tests" / "designs" / "good_counter.v").read_text()
            report = cm.verify(src, testbench=ReferenceTestbench(src), use_cache=False)
            with sandbox.workdir() as other:
                res = _sh("sh -c 'echo forked'", other)
        finally:
            (work / "stop").write_text("")
            thread.join()
    assert report.passed, [d.message for d in report.diagnostics][:3]
    assert res.stdout.strip() == "forked", res.output


def test_a_fork_bomb_is_contained_by_rlimit_nproc() -> None:
    code = textwrap.dedent("""
        import os, time
        n = 0
        try:
            for _ in range(400):
                if os.fork() == 0:
                    time.sleep(5)
                    os._exit(0)
                n += 1
        except OSError as exc:
            print("fork refused after", n, exc.errno)
        print("forked", n)
    """)
    with sandbox.workdir() as work:
        res = sandbox.run([sys.executable, "-c", code], cwd=work, limits=Limits(wall_s=30, processes=32))
    assert "fork refused" in res.stdout, res.output
    assert int(res.stdout.split("forked")[-1]) < 32


def test_the_environment_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "cm-secret-" + secrets.token_hex(8)
    monkeypatch.setenv("CM_TEST_API_KEY", secret)
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.setenv("CCACHE_REMOTE_STORAGE", f"https://ci:{secret}@cache.example")  # ccache's own, with a token
    with sandbox.workdir() as work:
        res = sandbox.run(["env"], cwd=work, env={**os.environ, "ANOTHER_TOKEN": secret})
    assert secret not in res.stdout
    env = dict(line.split("=", 1) for line in res.stdout.splitlines() if "=" in line)
    assert env["HOME"] == str(work.resolve()) and "PATH" in env


def test_the_whole_tree_dies_on_timeout() -> None:
    token = "cm-survivor-" + secrets.token_hex(6)
    # A child that detaches into its own session and ignores SIGTERM/SIGHUP, plus a plain background child.
    escape = f"import os, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); os.setsid(); time.sleep(120)  # {token}"
    script = f"{sys.executable} -c '{escape}' & nohup {sys.executable} -c '{escape}' & sleep 120"
    with sandbox.workdir() as work:
        res = _sh(script, work, wall_s=1.5)
    assert res.timed_out
    survivors = _processes_with(token)
    for _ in range(50):  # the kernel tears the pid namespace down asynchronously
        if not survivors:
            break
        time.sleep(0.1)
        survivors = _processes_with(token)
    assert survivors == []


def _processes_with(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
                state = (entry / "status").read_text()
            except OSError:
                continue
            if token.encode() in cmdline and "State:\tZ" not in state:
                found.append(int(entry.name))
    return found


def test_fallback_to_rlimits_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sandbox.MODE_ENV, "rlimits")
    iso = sandbox.isolation()
    assert iso.degraded and "rlimits only" in str(iso)
    report = cm.verify("module m(input a, output y); assign y = ~a; endmodule\n", use_cache=False)
    assert any("without an OS sandbox" in n for n in report.notes), report.notes


def test_bwrap_demanded_but_missing_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIRCUIT_MUSE_BWRAP", "/nonexistent/bwrap")
    with pytest.raises(ToolNotFound, match="CIRCUIT_MUSE_BWRAP"):
        sandbox.isolation()
    monkeypatch.setenv(sandbox.MODE_ENV, "docker")
    with pytest.raises(InputError, match="CIRCUIT_MUSE_SANDBOX"):
        sandbox.isolation()


def test_the_sandboxed_report_names_its_isolation() -> None:
    from circuit_muse.testbench import ReferenceTestbench

    src = "module m(input a, output y); assign y = ~a; endmodule\n"
    report = cm.verify(src, testbench=ReferenceTestbench(src), use_cache=False)
    assert report.passed, report.notes
    assert report.stage("simulate").info["isolation"].startswith("bwrap: ")
    assert not any("without an OS sandbox" in n for n in report.notes)


def test_a_runtime_under_the_private_tmp_is_bound_back(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A checkout and venv under /tmp (a CI clone) must stay visible behind the sandbox's private /tmp."""
    monkeypatch.setattr(sandbox, "_hidden_roots", lambda: sorted({"/tmp", "/var/tmp", str(Path(sys.prefix).resolve().parent)}))
    sandbox._runtime_in_hidden_roots.cache_clear()
    try:
        assert Path(sys.prefix).resolve() in sandbox._runtime_in_hidden_roots()
        res = sandbox.run([sys.executable, "-c", "import cocotb, circuit_muse; print('ok')"], cwd=tmp_path,
                          limits=Limits(wall_s=60), python=True)
    finally:
        sandbox._runtime_in_hidden_roots.cache_clear()
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.output


@pytest.mark.skipif(os.geteuid() != 0, reason="uid leases are for root callers")
def test_uid_leases_are_exclusive_and_rest_after_use(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two live leases never share a uid; a released uid, or one whose holder died holding it, rests before
    it is handed out again (its pid namespace may still be tearing down)."""
    monkeypatch.setenv(sandbox.UIDS_ENV, f"{1_900_200_000 + secrets.randbelow(1000) * 2}:2")
    monkeypatch.setattr(sandbox, "_UID_COOLDOWN_S", 0.5)
    first, second = sandbox.acquire_uid(), sandbox.acquire_uid()
    assert first.uid != second.uid
    sandbox.release_uid(first)
    os.close(second.fd)  # its holder dies without releasing it
    start = time.monotonic()
    third = sandbox.acquire_uid()
    assert time.monotonic() - start >= 0.3  # both uids were resting
    sandbox.release_uid(third)


# --- a verify worker's own empty network namespace --------------------------------------------------------

_NETNS_PROBE = textwrap.dedent("""
    import json, os, socket, sys, threading, time
    from circuit_muse.tools import sandbox
    from circuit_muse.tools.sandbox import Limits
    port = int(sys.argv[1])
    go, done, early = threading.Event(), threading.Event(), {}
    def before():  # a thread that exists before the switch stays in the host's namespace
        go.wait()
        with sandbox.workdir() as w:
            early["ns"] = sandbox.run(["readlink", "/proc/self/ns/net"], cwd=w).stdout.strip()
        done.set()
    threading.Thread(target=before).start()
    host = os.readlink("/proc/self/ns/net")
    entered = sandbox.enter_private_network()
    mine = os.readlink("/proc/self/ns/net")
    connect = ("import socket\\ntry:\\n    socket.create_connection(('127.0.0.1', %d), timeout=3); print('CONNECTED')\\n"
               "except OSError as exc:\\n    print('refused', exc)" % port)
    listen = ("import socket, os, time\\ns = socket.socket(socket.AF_UNIX); s.bind('\\\\0cm-left-behind'); s.listen(1)\\n"
              "if os.fork() == 0:\\n    os.setsid(); time.sleep(60)\\nprint('listening')")
    probe = ("import socket\\ntry:\\n    socket.socket(socket.AF_UNIX).connect('\\\\0cm-left-behind'); print('REACHED')\\n"
             "except OSError as exc:\\n    print('alone', exc)")
    out = {"entered": entered, "fresh": mine != host}
    with sandbox.workdir() as w:
        out["ns"] = [sandbox.run(["readlink", "/proc/self/ns/net"], cwd=w).stdout.strip() for _ in range(2)]
        out["connect"] = sandbox.run([sys.executable, "-c", connect], cwd=w, limits=Limits(wall_s=30)).stdout
        out["listen"] = sandbox.run([sys.executable, "-c", listen], cwd=w, limits=Limits(wall_s=30)).stdout
    with sandbox.workdir() as w:
        out["probe"] = sandbox.run([sys.executable, "-c", probe], cwd=w, limits=Limits(wall_s=30)).stdout
    go.set(); done.wait(60)
    out.update(mine=mine, host=host, early=early.get("ns"))
    print(json.dumps(out))
""")


@pytest.mark.skipif(os.geteuid() != 0, reason="a worker's private network namespace is for root callers")
def test_a_workers_private_network_reaches_nothing_and_keeps_nothing_between_runs() -> None:
    """A worker's sandboxes join its own empty network namespace instead of making one per call: nothing
    in it reaches the host's loopback, and what one run leaves listening (an abstract unix socket, whose
    holder detached) is gone before the next run starts. A thread that is elsewhere still gets a fresh one."""
    import json
    import subprocess

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        res = subprocess.run([sys.executable, "-c", _NETNS_PROBE, str(server.getsockname()[1])], env=env,
                             capture_output=True, text=True, timeout=240)
    finally:
        server.close()
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["entered"] and out["fresh"]
    assert out["ns"] == [out["mine"], out["mine"]]  # every call of this thread joins the worker's namespace
    assert out["early"] and out["early"] not in (out["mine"], out["host"])  # the other thread: a fresh one
    assert "refused" in out["connect"] and "CONNECTED" not in out["connect"]
    assert "listening" in out["listen"]
    assert "alone" in out["probe"] and "REACHED" not in out["probe"]


@pytest.mark.skipif(os.geteuid() != 0, reason="a worker's private network namespace is for root callers")
def test_every_verify_worker_has_a_network_namespace_of_its_own() -> None:
    from circuit_muse.engine.many import default_pool

    src = "module m(input a, output y); assign y = ~a; endmodule\n"
    reports = cm.verify_many([src + f"// {i}\n" for i in range(4)], workers=2, use_cache=False)
    assert all(r.level is cm.Level.STATIC for r in reports)
    spaces = {os.readlink(f"/proc/{w.proc.pid}/ns/net") for w in default_pool()._idle}
    assert len(spaces) == len(default_pool()._idle) >= 2
    assert os.readlink("/proc/self/ns/net") not in spaces


# --- cm-launch: the last step into a root caller's sandbox ---------------------------------------------------

_CREDENTIALS = "id -u; id -g; grep -E '^(Groups|Cap[A-Za-z]+|NoNewPrivs):' /proc/self/status; cat /proc/self/limits"


@pytest.mark.skipif(os.geteuid() != 0, reason="cm-launch replaces setpriv, which only root callers use")
def test_cm_launch_leaves_a_command_exactly_as_prlimit_and_setpriv_did(monkeypatch: pytest.MonkeyPatch) -> None:
    from circuit_muse.tools.launcher import LAUNCHER_ENV, launcher

    if launcher() is None:
        pytest.skip("no C compiler here: the sandbox uses prlimit + setpriv")
    limits = Limits(wall_s=30, cpu_s=7, address_space=900 << 20, file_size=5 << 20, processes=40)
    with sandbox.workdir() as work:
        fast = sandbox.run(["sh", "-c", _CREDENTIALS], cwd=work, limits=limits)
        monkeypatch.setenv(LAUNCHER_ENV, "off")
        assert launcher() is None
        old = sandbox.run(["sh", "-c", _CREDENTIALS], cwd=work, limits=limits)
        assert sandbox.run([sys.executable, "-c", "print('ok')"], cwd=work).stdout.strip() == "ok"
        monkeypatch.delenv(LAUNCHER_ENV)
        assert sandbox.run([sys.executable, "-c", "print('ok')"], cwd=work).stdout.strip() == "ok"
    assert fast.returncode == 0 and fast.stdout == old.stdout, (fast.output, old.output)
    lines = fast.stdout.splitlines()
    assert lines[1] == "65534" and int(lines[0]) >= sandbox._uid_range()[0]
    assert all(line.split()[-1] == "0000000000000000" for line in lines if line.startswith("Cap"))
    assert "NoNewPrivs:\t1" in lines
    limit = {" ".join(line.split()[:-3]): line.split()[-3:-1] for line in lines if line.startswith("Max ")}
    assert limit["Max cpu time"] == ["7", "8"] and limit["Max processes"] == ["40", "40"]
    assert limit["Max address space"] == [str(900 << 20)] * 2 and limit["Max file size"] == [str(5 << 20)] * 2
    assert limit["Max core file size"] == ["0", "0"]


@pytest.mark.skipif(os.geteuid() != 0, reason="cm-launch is for root callers")
def test_cm_launch_is_never_taken_from_a_directory_others_can_write(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    from circuit_muse.tools.launcher import LAUNCHER_ENV, launcher

    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    monkeypatch.setenv(LAUNCHER_ENV, str(shared))
    assert launcher() is None
    with sandbox.workdir() as work:  # the sandbox still drops to the run's uid, through setpriv
        assert _sh("id -u", work).stdout.strip() != "0"


@pytest.mark.skipif(os.geteuid() != 0, reason="cm-launch is for root callers")
def test_cm_launch_refuses_to_keep_root() -> None:
    import subprocess

    from circuit_muse.tools.launcher import launcher

    exe = launcher()
    if exe is None:
        pytest.skip("no C compiler here: the sandbox uses prlimit + setpriv")
    res = subprocess.run([exe, "0", "65534", "10", str(1 << 30), str(1 << 20), "10", "--", "id", "-u"],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 126 and res.stdout == "" and "root" in res.stderr


def test_dev_is_fresh_and_holds_only_what_tools_use() -> None:
    with sandbox.workdir() as work:
        res = _sh("ls -A /dev; echo x > /dev/null && echo null-ok; head -c 8 /dev/urandom | wc -c; "
                  "ls /dev/vda /dev/mem /dev/kmsg 2>&1 | grep -c 'No such file'", work)
    names = set(res.stdout.split("null-ok")[0].split())
    assert {"null", "zero", "urandom", "stdin", "stdout", "stderr", "fd"} <= names
    assert not names & {"vda", "mem", "kmsg", "sda", "nvme0"}
    assert "null-ok" in res.stdout and res.stdout.split()[-2:] == ["8", "3"], res.output
