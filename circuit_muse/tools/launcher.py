"""cm-launch: the last step into a root caller's sandbox (rlimits, drop to the run's uid, exec), in one exec.

Without it that step is two programs: util-linux `prlimit` before bwrap and `setpriv` inside it. Each is a
dynamically linked exec; together they cost about 2.7 ms of CPU and 6 ms of wall time per sandbox call
(benchmarks/sandbox_cost.py). cm-launch does the same work in one static exec. It is compiled from the C
text below with the system compiler on first use and cached root-owned in /var/cache/circuit_muse.
`CIRCUIT_MUSE_LAUNCHER=DIR` moves the cache; `=off` keeps prlimit + setpriv. So do a missing compiler
and a cache that cannot be kept safe (the sandbox logs why).

In order, it does what `prlimit --cpu=C:C+1 --as=A:A --fsize=F:F --core=0:0 --nproc=N:N` followed by
`setpriv --reuid=U --regid=G --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs` did:
- set the five limits (hard and soft);
- drop every capability from the bounding set;
- clear the supplementary groups;
- set the real, effective and saved gid, then uid (keeping the permitted capabilities until the exec,
  as setpriv does, so the command is looked up exactly as before);
- clear the inheritable and ambient sets;
- set no_new_privs;
- exec the command, which starts with every capability set empty (the bounding and inheritable sets are
  empty and its uid is not root).

Its batch form (`--batch PREFIX CONCURRENT -- N1 ARGS1... N2 ARGS2...`, see `sandbox.run_batch`) does what
the sh driver `sandbox._BATCH_DRIVER` does, without the shell: as the run's uid, with no effective
capability, it starts each command in turn or all at once, each with stdin from /dev/null and its own
PREFIXi.out and PREFIXi.err, and writes PREFIXi.start before and PREFIXi.rc (the exit status, or 128 plus
the signal) after. Each command is exec'd exactly as in the single form.
It takes only numbers, file-name prefixes and commands; it is only ever started as root inside bwrap's
namespaces, and it never runs anything as root.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import os
import shutil
import stat
import tempfile
from pathlib import Path

log = logging.getLogger("circuit_muse.sandbox")

LAUNCHER_ENV = "CIRCUIT_MUSE_LAUNCHER"
DEFAULT_DIR = Path("/var/cache/circuit_muse")

SOURCE = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* cm-launch UID GID CPU AS FSIZE NPROC -- COMMAND [ARGS...]
   cm-launch UID GID CPU AS FSIZE NPROC --batch PREFIX CONCURRENT -- N1 ARGS1... N2 ARGS2...
   (circuit_muse/tools/launcher.py; the batch form does what sandbox._BATCH_DRIVER does) */

#define MAX_COMMANDS 16

static void die(const char *what) {
    fprintf(stderr, "cm-launch: %s: %s\n", what, strerror(errno));
    _exit(126);
}

static unsigned long long number(const char *s) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || !*s || *s == '-') {
        errno = EINVAL;
        die(s);
    }
    return v;
}

static void limit(int resource, const char *name, rlim_t soft, rlim_t hard) {
    struct rlimit r = {soft, hard};
    if (setrlimit(resource, &r)) die(name);
}

/* Effective capabilities: the permitted set (raise=1, only right before an exec, as setpriv does) or none. */
static void effective_caps(int raise) {
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &header, data)) die("capget");
    for (int i = 0; i < 2; i++) {
        data[i].effective = raise ? data[i].permitted : 0;
        data[i].inheritable = 0;
    }
    if (syscall(SYS_capset, &header, data)) die("capset");
}

static void path_of(char *buf, const char *prefix, int i, const char *ext) {
    if (snprintf(buf, PATH_MAX, "%s%d.%s", prefix, i, ext) >= PATH_MAX) {
        errno = ENAMETOOLONG;
        die(prefix);
    }
}

static int create(const char *prefix, int i, const char *ext) {
    char name[PATH_MAX];
    path_of(name, prefix, i, ext);
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) die(name);
    return fd;
}

static pid_t start(const char *prefix, int i, char **cmd) {
    close(create(prefix, i, "start"));
    int out = create(prefix, i, "out"), err = create(prefix, i, "err");
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        if (in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(126);
        effective_caps(1);
        execvp(cmd[0], cmd);
        fprintf(stderr, "cm-launch: %s: %s\n", cmd[0], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
    }
    close(out);
    close(err);
    return pid;
}

static void finish(const char *prefix, int i, pid_t pid) {
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) die("waitpid");
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    char text[16];
    int n = snprintf(text, sizeof text, "%d\n", code);
    int fd = create(prefix, i, "rc");
    if (write(fd, text, (size_t)n) != n) die("write");
    close(fd);
}

/* The batch form: each command with its own output files, one after another or all at once. */
static int batch(const char *prefix, int concurrent, int argc, char **argv) {
    char **cmds[MAX_COMMANDS];
    pid_t pids[MAX_COMMANDS];
    int count = 0;
    for (int k = 0; k < argc;) {
        unsigned long long n = number(argv[k]);
        if (n == 0 || n > (unsigned long long)(argc - k - 1) || count == MAX_COMMANDS) {
            errno = EINVAL;
            die("batch arguments");
        }
        char **cmd = calloc(n + 1, sizeof *cmd);
        if (!cmd) die("calloc");
        memcpy(cmd, argv + k + 1, n * sizeof *cmd);
        cmds[count++] = cmd;
        k += (int)n + 1;
    }
    for (int i = 0; i < count; i++) {
        pids[i] = start(prefix, i, cmds[i]);
        if (!concurrent) finish(prefix, i, pids[i]);
    }
    if (concurrent)
        for (int i = 0; i < count; i++) finish(prefix, i, pids[i]);
    return 0;
}

int main(int argc, char **argv) {
    int batched = argc >= 12 && strcmp(argv[7], "--batch") == 0 && strcmp(argv[10], "--") == 0;
    if (!batched && (argc < 9 || strcmp(argv[7], "--") != 0)) {
        errno = EINVAL;
        die("usage: cm-launch UID GID CPU AS FSIZE NPROC -- COMMAND [ARGS...]");
    }
    uid_t uid = (uid_t)number(argv[1]);
    gid_t gid = (gid_t)number(argv[2]);
    rlim_t cpu = number(argv[3]), as = number(argv[4]), fsize = number(argv[5]), nproc = number(argv[6]);
    if (uid == 0 || gid == 0) {
        errno = EINVAL;
        die("refusing to run a sandbox as root");
    }
    limit(RLIMIT_CPU, "RLIMIT_CPU", cpu, cpu + 1);
    limit(RLIMIT_AS, "RLIMIT_AS", as, as);
    limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", fsize, fsize);
    limit(RLIMIT_CORE, "RLIMIT_CORE", 0, 0);
    limit(RLIMIT_NPROC, "RLIMIT_NPROC", nproc, nproc);
    for (int cap = 0; cap < 64; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL) die("PR_CAPBSET_DROP");
    if (setgroups(0, NULL)) die("setgroups");
    if (setresgid(gid, gid, gid)) die("setresgid");
    /* As setpriv does: keep the permitted set across the uid change, effective only for the exec, so a command
       is looked up as before (the exec empties every set: the bounding and inheritable sets are empty and the
       new uid is not root). */
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0)) die("PR_SET_KEEPCAPS");
    if (setresuid(uid, uid, uid)) die("setresuid");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL) die("PR_CAP_AMBIENT");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) die("PR_SET_NO_NEW_PRIVS");
    if (batched) {
        effective_caps(0);
        return batch(argv[8], strcmp(argv[9], "1") == 0, argc - 11, argv + 11);
    }
    effective_caps(1);
    execvp(argv[8], argv + 8);
    die(argv[8]);
    return 126;
}
"""


def _safe_root_owned(path: Path) -> None:
    """Raise PermissionError unless path and every parent is root's and writable by nobody else."""
    for p in (path, *path.parents):
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o022:
            raise PermissionError(f"{p} is not root's alone (owner {st.st_uid}, mode {oct(st.st_mode & 0o7777)})")


def _build(directory: Path, exe: Path) -> None:
    from .sandbox import Limits, run_trusted  # sandbox imports this module lazily; no cycle at import time

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise FileNotFoundError("no C compiler (cc) to build it")
    with tempfile.TemporaryDirectory(prefix="cm-launch-", dir=directory) as tmp:
        src = Path(tmp) / "cm_launch.c"
        src.write_text(SOURCE)
        out = Path(tmp) / "cm-launch"
        limits = Limits(wall_s=120, cpu_s=120)
        res = None
        for static in (["-static"], []):  # a static binary starts faster; not every system has libc.a
            res = run_trusted([cc, "-O2", *static, "-o", str(out), str(src)], cwd=tmp, limits=limits)
            if res.ok and out.is_file():
                break
        if res is None or not out.is_file():
            raise OSError(f"cc failed: {(res.output if res else '').strip()[-300:]}")
        os.chmod(out, 0o755)
        check = run_trusted([str(out), "65534", "65534", "10", str(256 << 20), str(1 << 20), "16", "--", "id", "-u"],
                            cwd=tmp, limits=limits)
        if check.stdout.strip() != "65534":
            raise OSError(f"the built launcher does not work: {check.output.strip()[-300:]}")
        os.replace(out, exe)  # atomic: concurrent workers may build it at the same time
    for old in directory.glob("cm-launch-*"):  # builds of earlier sources
        if old != exe and old.is_file() and not old.is_symlink():
            old.unlink(missing_ok=True)


@functools.cache
def _launcher(setting: str) -> str | None:
    if setting.lower() == "off":
        return None
    directory = Path(setting or DEFAULT_DIR)
    exe = directory / f"cm-launch-{hashlib.sha256(SOURCE.encode()).hexdigest()[:16]}"
    try:
        directory.mkdir(mode=0o755, parents=True, exist_ok=True)
        _safe_root_owned(directory)
        if not exe.exists():
            _build(directory, exe)
        _safe_root_owned(exe)
        if not stat.S_ISREG(os.lstat(exe).st_mode):
            raise PermissionError(f"{exe} is not a regular file")
    except OSError as exc:
        log.warning("sandbox launcher unavailable (%s); using prlimit + setpriv (set %s=off to silence)", exc,
                    LAUNCHER_ENV)
        return None
    return str(exe)


def launcher() -> str | None:
    """The cm-launch executable for root callers (built on first use), or None to use prlimit + setpriv."""
    if os.geteuid() != 0:
        return None
    return _launcher(os.environ.get(LAUNCHER_ENV, "").strip())
