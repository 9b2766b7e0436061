"""Write a run's report into --out: summary.json, report.md, plots, and (on request) JUnit XML;
compare against a baseline summary for CI."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from ..errors import InputError
from .harness import BenchRun

SUMMARY_FILE = "summary.json"
REPORT_FILE = "report.md"
PLOT_ROUNDS = "pass_rate_by_round.png"
PLOT_CATEGORIES = "failure_categories.png"
MODE_TEXT = {"oracle": "the benchmark testbench was in the loop",
             "hidden": "the loop saw only lint, synthesis and its own checks; the benchmark testbench gave the final verdict"}


def title(run: BenchRun) -> str:
    p = run.protocol
    return f"circuit-muse bench: {p['suite']['name']} - {p['model']} - {p['mode']} mode"


def summary(run: BenchRun) -> dict[str, Any]:
    per_problem = [{"problem": r["problem"], "n": r["n"], "c": r["c"],
                    "categories": sorted({s["rounds"][-1]["category"] for s in r["samples"]}),
                    "reference": r.get("reference")} for r in run.records]
    return {"title": title(run), "protocol": run.protocol, "metrics": run.metrics, "problems": per_problem}


def write_all(run: BenchRun, *, junit: Path | None = None) -> dict[str, Path]:
    out = run.out
    data = summary(run)
    paths = {"json": out / SUMMARY_FILE, "markdown": out / REPORT_FILE}
    paths["json"].write_text(json.dumps(data, indent=1, sort_keys=True))
    paths.update(_plots(run))
    paths["markdown"].write_text(_markdown(run, data, paths))
    if junit:
        paths["junit"] = write_junit(run, junit)
    return paths


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.4f}"


def _markdown(run: BenchRun, data: dict[str, Any], paths: dict[str, Path]) -> str:
    p, m = run.protocol, run.metrics
    s = p["suite"]
    mode_text = MODE_TEXT[p["mode"]]
    lines = [f"# {data['title']}", "", f"Mode: **{p['mode']}** ({mode_text}).", "",
             "## Protocol", "", "| item | value |", "|---|---|",
             f"| suite | {s['name']} ({s['problems']} problems, {p['selected_problems']} selected) |",
             f"| suite version | {s['version'] or 'unknown (not a git checkout)'} |",
             f"| suite content hash | `{s['content_hash']}` |",
             f"| tools | {', '.join(f'{k} {v}' for k, v in p['tools'].items())} |",
             f"| model | `{p['model']}` |", f"| weights hash | {p['weights_hash'] or 'n/a'} |",
             f"| n (samples per problem) / rounds / samples per round | {p['samples']} / {p['rounds']} / {p['samples_per_round']} |",
             f"| temperature / top_p / max new tokens | {p['temperature']} / {p['top_p']} / {p['max_new_tokens']} |",
             f"| prompt template hash | `{p['prompt_template_hash'][:16]}` |",
             f"| checks beside the verdict | {p['checks']} |", f"| selection | {p['selection']} |",
             f"| run key | `{p['run_key']}` |", "",
             "## Scores", "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in m.get("pass_at", {}).items()]
    lines += [f"| problems with a passing sample | {m.get('passed_problems', 0)} / {m.get('problems', 0)} |",
              f"| would also pass the strict lint+synth policy | {_fmt(m.get('strict_pass_rate'))} |", "",
              "Pass rate after each round:", "", "| round | pass rate |", "|---|---|"]
    lines += [f"| {r['round']} | {_fmt(r['pass_rate'])} |" for r in m.get("pass_rate_by_round", [])]
    lines += ["", "## Failure categories (final candidate of each failing sample)", "", "| category | samples |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in m.get("failure_categories", {}).items()] or ["| (none) | 0 |"]
    lines += ["", "Lint/synthesis findings reported beside the verdict (never a functional fail):", "",
              "| stage:finding | samples |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in m.get("static_findings", {}).items()] or ["| (none) | 0 |"]
    cost = m.get("per_problem", {})
    lines += ["", "## Cost per problem (mean)", "",
              f"tokens {_fmt(cost.get('tokens'))}, model time {_fmt(cost.get('model_s'))} s, "
              f"verification time {_fmt(cost.get('verify_s'))} s", ""]
    failing = [r for r in run.records if r["c"] < r["n"]]
    if failing:
        lines += ["## Problems with failing samples", "", "| problem | passed | categories | first message |", "|---|---|---|---|"]
        for r in failing:
            bad = [s for s in r["samples"] if not s["passed"]]
            msg = bad[0]["rounds"][-1]["message"].replace("|", "/").replace("\n", " ")[:140]
            cats = ", ".join(sorted({s["rounds"][-1]["category"] for s in bad}))
            lines.append(f"| {r['problem']} | {r['c']}/{r['n']} | {cats} | {msg} |")
        lines.append("")
    for key in ("rounds_plot", "categories_plot"):
        if key in paths:
            lines.append(f"![{key}]({paths[key].name})")
    return "\n".join(lines) + "\n"


def _plots(run: BenchRun) -> dict[str, Path]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return {}
    out: dict[str, Path] = {}
    m = run.metrics
    rounds = m.get("pass_rate_by_round", [])
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot([r["round"] for r in rounds], [r["pass_rate"] or 0 for r in rounds], marker="o")
    ax.set(xlabel="round", ylabel="pass rate", ylim=(0, 1.05), title=f"pass rate by round ({run.protocol['mode']})")
    ax.set_xticks([r["round"] for r in rounds])
    fig.tight_layout()
    out["rounds_plot"] = run.out / PLOT_ROUNDS
    fig.savefig(out["rounds_plot"], dpi=110)
    plt.close(fig)
    cats = m.get("failure_categories", {})
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.bar(list(cats) or ["none"], list(cats.values()) or [0], color="#c0504d")
    ax.set(ylabel="failing samples", title="failure categories")
    ax.tick_params(axis="x", rotation=35)
    fig.tight_layout()
    out["categories_plot"] = run.out / PLOT_CATEGORIES
    fig.savefig(out["categories_plot"], dpi=110)
    plt.close(fig)
    return out


def write_junit(run: BenchRun, path: Path) -> Path:
    """One testcase per problem; it fails when no sample of the problem passed."""
    suite = ET.Element("testsuite", name=title(run), tests=str(len(run.records)),
                       failures=str(sum(1 for r in run.records if r["c"] == 0)))
    for r in run.records:
        case = ET.SubElement(suite, "testcase", classname=run.protocol["suite"]["name"], name=r["problem"])
        if r["c"] == 0:
            last = r["samples"][0]["rounds"][-1]
            fail = ET.SubElement(case, "failure", message=f"{last['category']}: {last['message']}"[:500])
            fail.text = f"0 of {r['n']} samples passed"
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
    return path


def regression(run: BenchRun, baseline: Path, fail_under: float) -> tuple[bool, str]:
    """(regressed, explanation): pass@1 dropped by more than fail_under against the baseline summary."""
    try:
        prev = json.loads(baseline.read_text())
        before = prev["metrics"]["pass_at"]["pass@1"]
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(f"--baseline {baseline}: not a summary.json written by `circuit-muse bench`") from None
    now = run.metrics.get("pass_at", {}).get("pass@1") or 0.0
    drop = before - now
    same = prev.get("protocol", {}).get("suite", {}).get("content_hash") == run.protocol["suite"]["content_hash"]
    note = "" if same else " (warning: the baseline scored a different copy of the suite)"
    text = f"pass@1 {now:.4f} vs baseline {before:.4f}: change {-drop:+.4f}, allowed drop {fail_under:.4f}{note}"
    return drop > fail_under + 1e-12, text
