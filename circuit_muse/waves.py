"""Waveforms of failing simulations: get one for every kind of bench, keep it, and keep the folder bounded.

- `keep_waveform(ctx, produced)` (called by every bench when a run fails) copies the run's VCD/FST out of the
  sandbox before the sandbox is deleted. When the caller named a folder (`--keep-waves DIR`), a bench that dumps
  nothing itself (the built-in suites' replay benches, a user's Verilog bench without `$dumpvars`) is recompiled
  once with a small dumper module next to its own top modules and re-run under the same limits, seed and
  vectors, so the waveform shows the very run that failed. Without a named folder there is no rerun: bulk work
  (data check, mutation scoring, repair rounds) must not pay a second simulation per failing candidate.
- The default folder (`$CIRCUIT_MUSE_WAVES_DIR` or <tmp>/circuit_muse-waves) is capped at
  `$CIRCUIT_MUSE_WAVES_MAX_MB` (default 256 MB): the oldest waveforms are deleted first. A folder the caller
  names (`--keep-waves DIR`) is never pruned.

Open a kept waveform with GTKWave (`apt-get install gtkwave`, then `gtkwave FILE.vcd`).
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .testbench.base import SimContext

MAX_WAVE_BYTES = 32 * 1024 * 1024          # a single waveform larger than this (a runaway dump) is not kept
RERUN_WALL_S = 5.0                          # a design that hung the first run costs at most this much again
CAP_ENV = "CIRCUIT_MUSE_WAVES_MAX_MB"
DEFAULT_CAP_MB = 256
WAVE_SUFFIXES = (".vcd", ".fst")
_OURS = re.compile(r"^.+-[0-9a-f]{12}\.(vcd|fst)$")  # the names keep_waveform gives; only these are evicted

_ROOT_SCOPE = re.compile(r'^S_\w+ \.scope module, "([^"]+)" "[^"]+" \d+ \d+;$', re.M)
_FILE_TABLE = re.compile(r"^:file_names (\d+);$", re.M)
_NOT_FILES = {"N/A", "<interactive>", "-"}
# Module and file names reach the dumper's text and iverilog's argv: plain ones only (a design can rename its
# source with `line, or use escaped identifiers; neither may become an argument or Verilog of ours).
_PLAIN_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_PLAIN_FILE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*")


def cap_bytes() -> int:
    """The size cap of the default waveform folder, from $CIRCUIT_MUSE_WAVES_MAX_MB (default 256)."""
    raw = os.environ.get(CAP_ENV, "")
    try:
        mb = float(raw) if raw else DEFAULT_CAP_MB
    except ValueError:
        mb = DEFAULT_CAP_MB
    return max(0, int(mb * 1024 * 1024))


def evict_oldest(folder: Path, limit: int, *, keep: Path | None = None) -> list[Path]:
    """Delete the oldest waveforms we wrote in `folder` until they total at most `limit` bytes.

    `keep` (the file just written) is never deleted. Returns the deleted paths, oldest first.
    """
    files = []
    for p in folder.iterdir() if folder.is_dir() else ():
        if _OURS.match(p.name) and p.is_file():
            try:
                st = p.stat()
            except FileNotFoundError:  # another process evicted it first
                continue
            files.append((st.st_mtime_ns, p.name, p, st.st_size))
    files.sort()
    total = sum(f[3] for f in files)
    deleted = []
    for _, _, p, size in files:
        if total <= limit:
            break
        if keep is not None and p == keep:
            continue
        try:
            p.unlink()
        except FileNotFoundError:
            pass
        total -= size
        deleted.append(p)
    return deleted


def store(wave: Path, dest_dir: str | os.PathLike[str], stem: str) -> str | None:
    """Copy one waveform into dest_dir as <stem><suffix>; prune the folder if it is the default one."""
    from .engine.options import default_waves_dir

    if wave.is_symlink():  # written inside the design's sandbox: never follow it out of there
        return None
    try:
        size = wave.stat().st_size
    except FileNotFoundError:
        return None
    if not 0 < size <= MAX_WAVE_BYTES:
        return None
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / f"{stem}{wave.suffix}"
    shutil.copyfile(wave, target)
    if dest.resolve() == Path(default_waves_dir()).resolve():
        evict_oldest(dest, cap_bytes(), keep=target)
    return str(target)


def image_sources(image_text: str) -> tuple[list[str], list[str]]:
    """(source files, root module instances) of a compiled Icarus image (vvp's text format)."""
    roots = _ROOT_SCOPE.findall(image_text)
    files: list[str] = []
    m = _FILE_TABLE.search(image_text)
    if m:
        rows = image_text[m.end():].splitlines()[1:int(m.group(1)) + 1]
        files = [r.strip().rstrip(";").strip('"') for r in rows]
    return [f for f in files if f not in _NOT_FILES], roots


def dump_rerun(ctx: SimContext) -> list[Path]:
    """Recompile the failed Icarus run with a dumper module beside its top modules, re-run it, and return the
    waveform it wrote (empty if the image is gone or the rerun could not dump)."""
    from .testbench.verilog_tb import icarus_compile_args
    from .tools.invoke import run_tool

    opts = ctx.options
    work = ctx.workdir
    image = work / (ctx.prebuilt or "sim.vvp")
    if opts.simulator != "icarus" or not image.is_file():
        return []
    files, roots = image_sources(image.read_text(errors="replace"))
    files = list(dict.fromkeys(f for f in files if _PLAIN_FILE.fullmatch(f) and (work / f).is_file()))
    if not files or not roots or not all(_PLAIN_MODULE.fullmatch(r) for r in roots):
        return []
    dumper = "cm_wave_dump_" + re.sub(r"\W", "", ctx.nonce)[-8:]   # a name no design can have guessed
    wave = f"{dumper}.vcd"
    (work / f"{dumper}.sv").write_text(
        f"module {dumper};\n  initial begin\n    $dumpfile(\"{wave}\");\n"
        f"    $dumpvars(0, {', '.join(roots)});\n  end\nendmodule\n")
    args = icarus_compile_args(None, f"{dumper}.vvp")
    for r in roots:
        args += ["-s", r]
    comp = run_tool("iverilog", [*args, "-s", dumper, *files, f"{dumper}.sv"], cwd=work, limits=opts.tool_limits)
    if comp.returncode != 0 or comp.timed_out:
        return []
    # bounded: a run that timed out or flooded once must not cost its full limits twice
    limits = opts.sim_limits.scaled(wall_s=min(opts.sim_limits.wall_s, RERUN_WALL_S),
                                    cpu_s=min(opts.sim_limits.cpu_s, int(RERUN_WALL_S)),
                                    file_size=min(opts.sim_limits.file_size, MAX_WAVE_BYTES))
    run_tool("vvp", ["-n", f"{dumper}.vvp"], cwd=work, limits=limits)
    return [work / wave] if (work / wave).is_file() else []


def keep_waveform(ctx: SimContext, produced: list[Path]) -> str | None:
    """Keep the waveform of a failing run in ctx.options.keep_vcd_dir; returns its path, or None.

    Uses the bench's own dump when it made one; otherwise, for a folder the caller named, re-runs the Icarus
    image with a dumper (see above).
    """
    from .engine.options import default_waves_dir

    dest_dir = ctx.options.keep_vcd_dir
    if not dest_dir:
        return None
    asked = Path(dest_dir).resolve() != Path(default_waves_dir()).resolve()
    tag = re.sub(r"[^0-9a-f]", "", ctx.nonce.lower())[-12:].rjust(12, "0")
    stem = f"{re.sub(r'[^A-Za-z0-9_]', '_', ctx.top or 'design')[:64]}-{tag}"   # never a path: top is design text
    waves = [w for w in produced if w.suffix in WAVE_SUFFIXES and w.exists()] or (dump_rerun(ctx) if asked else [])
    for wave in waves:
        kept = store(wave, dest_dir, stem)
        if kept:
            return kept
    return None
