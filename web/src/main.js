// The circuit_muse page: prompt -> live rounds (code, stages, cycles, waveform, feedback) -> verified code.
import "./style.css";
import "highlight.js/styles/github.css";
import hljs from "highlight.js/lib/core";
import verilog from "highlight.js/lib/languages/verilog";
import { diffLines } from "diff";
import { renderAny, waveSkin, onml } from "wavedrom";

hljs.registerLanguage("verilog", verilog);
const $ = (id) => document.getElementById(id);
const FALLBACK_EXAMPLES = [
  "Design a 4-bit counter with enable and active-low async reset.",
  "Write a synchronous FIFO with 8-bit data and depth 16, with full and empty flags.",
  "Create a round-robin arbiter for 4 requesters.",
];
const state = { info: null, job: null, lastId: 0, rounds: new Map(), best: new Map(), abort: null };

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
}

function notice(text, kind = "error") {
  const n = $("notice");
  n.hidden = !text; n.textContent = text || ""; n.className = `notice ${kind}`;
}

function headers(json = true) {
  const h = json ? { "Content-Type": "application/json" } : {};
  const tok = $("token").value || localStorage.getItem("cm-token");
  if (tok) h.Authorization = `Bearer ${tok}`;
  return h;
}

class ApiError extends Error {
  constructor(status, code, message, retryAfter) { super(message); Object.assign(this, { status, code, retryAfter }); }
}

async function api(path, opts = {}) {
  let resp;
  try {
    resp = await fetch(path, { ...opts, headers: { ...headers(opts.body != null), ...(opts.headers || {}) } });
  } catch (e) {
    setBackend("unreachable");
    throw new ApiError(0, "unreachable", "The backend is unreachable. Is `circuit-muse serve` running? Retrying…");
  }
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const err = body.error || { code: "error", message: `HTTP ${resp.status}` };
    throw new ApiError(resp.status, err.code, err.message, resp.headers.get("Retry-After"));
  }
  return body;
}

function explain(e) {
  if (e.status === 429) return `The server is busy (${e.message}). Try again in ${e.retryAfter || "a few"} s.`;
  if (e.status === 401) { $("token-label").hidden = false; return "This server needs a token: enter it under Token."; }
  return e.message;
}

function setBackend(kind, text) {
  const b = $("backend");
  b.className = `badge ${kind}`;
  b.textContent = text || { ok: "backend ok", unreachable: "backend unreachable", busy: "backend busy" }[kind] || kind;
}

async function pollHealth() {
  try {
    const h = await api("/health");
    setBackend(h.queue_depth > 0 && h.running >= h.workers ? "busy" : "ok",
      `${h.model} · ${h.running}/${h.workers} running · ${h.queue_depth} queued`);
    if ($("notice").dataset.kind === "unreachable") notice("");
  } catch (e) {
    notice(explain(e)); $("notice").dataset.kind = "unreachable";
  }
  setTimeout(pollHealth, 5000);
}

async function loadInfo() {
  let examples = FALLBACK_EXAMPLES;
  try {
    state.info = await api("/info");
    examples = state.info.examples;
    $("model").replaceChildren(el("option", { text: state.info.model, value: state.info.model }));
    $("rounds").value = state.info.limits.default_rounds; $("rounds").max = state.info.limits.max_rounds;
    $("samples").value = state.info.limits.default_samples; $("samples").max = state.info.limits.max_samples;
    $("token-label").hidden = !state.info.auth;
    const suites = await api("/suites");
    for (const s of suites.suites) $("verify-suite").append(el("option", { value: s.family, text: `${s.family}: ${s.summary}` }));
  } catch (e) { notice(explain(e)); }
  $("examples").replaceChildren(...examples.map((p) => el("button", { class: "chip", text: p, onclick: () => { $("prompt").value = p; } })));
}

// ---------------------------------------------------------------- rendering

function highlight(code) {
  const pre = el("pre", { class: "code hljs" });
  const lines = hljs.highlight(code, { language: "verilog" }).value.split("\n");
  pre.innerHTML = lines.map((l, i) => `<span class="ln" data-line="${i + 1}">${l || " "}</span>`).join("");
  return pre;
}

function stageList(report, codeBox) {
  const ul = el("ul", { class: "stages", "data-testid": "stages" });
  for (const s of report.stages) {
    const mark = s.skipped ? "–" : s.passed ? "✓" : "✗";
    const li = el("li", { class: s.skipped ? "skip" : s.passed ? "ok" : "bad" },
      el("span", { class: "mark", text: mark }), el("b", { text: s.name }),
      el("span", { class: "time", text: `${(s.duration_s * 1000).toFixed(0)} ms` }),
      s.category ? el("span", { class: "cat", text: s.category }) : null);
    const diags = s.diagnostics.filter((d) => d.severity !== "info");
    if (diags.length) {
      const dl = el("ul", { class: "diags", "data-testid": "diagnostics" });
      for (const d of diags.slice(0, 12)) {
        const loc = d.line ? `line ${d.line}` : d.file || "design";
        dl.append(el("li", { class: d.severity, onclick: () => pointAt(codeBox, d.line) },
          el("a", { class: "loc", text: loc }), ` ${d.tool}: ${d.message}`,
          d.source_line ? el("code", { class: "src", text: d.source_line.trim() }) : null));
        if (d.line) markLine(codeBox, d.line, d.severity);
      }
      li.append(dl);
    }
    ul.append(li);
  }
  return ul;
}

function markLine(box, line, severity) {
  const span = box && box.querySelector(`[data-line="${line}"]`);
  if (span) span.classList.add(`mark-${severity}`);
}

function pointAt(box, line) {
  const span = line && box && box.querySelector(`[data-line="${line}"]`);
  if (!span) return;
  span.scrollIntoView({ block: "center" }); span.classList.add("flash");
  setTimeout(() => span.classList.remove("flash"), 1200);
}

function cycleTable(sim) {
  if (!sim || !sim.mismatches || !sim.mismatches.length) return null;
  const t = el("table", { class: "grid cycles", "data-testid": "cycles" },
    el("thead", {}, el("tr", {}, ...["cycle", "inputs", "signal", "expected", "got"].map((h) => el("th", { text: h })))));
  const tb = el("tbody");
  for (const m of sim.mismatches) {
    const ins = Object.entries(m.inputs || {}).map(([k, v]) => `${k}=${v}`).join(" ");
    tb.append(el("tr", {}, el("td", { text: m.cycle ?? m.time ?? "" }), el("td", { text: ins }),
      el("td", { text: m.signal || "" }), el("td", { class: "exp", text: m.expected ?? "" }), el("td", { class: "got", text: m.got ?? "" })));
  }
  t.append(tb);
  const caption = `${sim.mismatched_samples || sim.failures} of ${sim.samples || sim.tests} checks failed`;
  return el("div", {}, el("h4", { text: `Failing cycles (${caption})` }), t);
}

async function waveform(jobId, round, index) {
  const box = el("div", { class: "wave", "data-testid": "waveform" }, el("h4", { text: "Waveform around the first mismatch" }));
  try {
    const wj = await api(`/jobs/${jobId}/waveform?round=${round}&index=${index}`);
    const svg = el("div", { class: "svg" });
    svg.innerHTML = onml.stringify(renderAny(round * 100 + index, wj, waveSkin));
    box.append(el("p", { class: "muted", text: wj.head.text }), svg);
  } catch (e) { box.append(el("p", { class: "muted", text: `no waveform: ${e.message}` })); }
  return box;
}

function diffView(before, after) {
  const pre = el("pre", { class: "diff", "data-testid": "diff" });
  for (const part of diffLines(before, after)) {
    const cls = part.added ? "add" : part.removed ? "del" : "same";
    const sign = part.added ? "+" : part.removed ? "-" : " ";
    const text = part.value.replace(/\n$/, "").split("\n").map((l) => sign + " " + l).join("\n");
    pre.append(el("span", { class: cls, text: text + "\n" }));
  }
  return pre;
}

function roundCard(r) {
  if (state.rounds.has(r)) return state.rounds.get(r);
  const card = el("div", { class: "round", "data-testid": "round", "data-round": r },
    el("h3", { text: `Round ${r}` }), el("div", { class: "cands" }));
  $("rounds-view").append(card);
  const entry = { card, cands: new Map() };
  state.rounds.set(r, entry);
  return entry;
}

function candBox(r, i) {
  const round = roundCard(r);
  if (round.cands.has(i)) return round.cands.get(i);
  const code = el("pre", { class: "code streaming", "data-testid": "stream" });
  const box = el("div", { class: "cand", "data-testid": "candidate" }, el("h4", { text: `Candidate ${i + 1}` }), code,
    el("div", { class: "verdict" }));
  round.card.querySelector(".cands").append(box);
  const c = { box, code, text: "" };
  round.cands.set(i, c);
  return c;
}

async function onCandidate(e) {
  const c = candBox(e.round, e.data.index);
  const rep = e.data.report;
  const verdict = c.box.querySelector(".verdict");
  const clean = !e.data.passed && e.data.level === "static";  // lint+synth clean, nothing simulated
  verdict.replaceChildren(el("b", { class: e.data.passed ? "pass" : clean ? "static" : "fail",
    text: e.data.passed ? "PASS" : clean ? "clean, not functionally verified" : `✗ ${e.data.category}` }),
    ` score ${e.data.score}`);
  if (!rep) return;
  const code = highlight(rep.source || c.text);
  code.setAttribute("data-testid", "candidate-code");
  c.code.replaceWith(code); c.code = code;
  c.box.append(stageList(rep, code));
  const sim = (rep.stages.find((s) => s.simulation) || {}).simulation;
  const table = cycleTable(sim);
  if (table) c.box.append(table);
  if (sim && !e.data.passed && (sim.vcd_path || (sim.mismatches || []).length)) c.box.append(await waveform(state.job, e.round, e.data.index));
  const prev = state.best.get(e.round - 1);
  if (prev && rep.source && e.data.index === 0) {
    c.box.append(el("details", { open: "" }, el("summary", { text: `Changes since round ${e.round - 1}` }), diffView(prev, rep.source)));
  }
  const best = state.best.get(e.round);
  if (!best || e.data.passed) state.best.set(e.round, rep.source || "");
}

function showFinal(job) {
  const f = $("final");
  f.hidden = false;
  const res = job.result;
  if (!res) {
    f.replaceChildren(el("div", { class: "banner fail", "data-testid": "banner", text: `Job ${job.state}${job.error ? ": " + job.error : ""}` }));
    return;
  }
  let banner;
  if (res.passed && res.level === "functional") banner = el("div", { class: "banner pass", "data-testid": "banner", text: `PASS: simulated against ${res.spec ? res.spec.family + " suite" : "its testbench"} in ${res.rounds_used} round(s)` });
  else if (res.level === "static") banner = el("div", { class: "banner static", "data-testid": "banner", text: "Clean, not functionally verified: lint and synthesis passed, no testbench ran" });
  else banner = el("div", { class: "banner fail", "data-testid": "banner", text: `Not verified after ${res.rounds_used} round(s): ${res.report ? res.report.category : "no code"}` });
  const code = res.verilog || res.text || "";
  const copy = el("button", { text: "Copy", onclick: async () => { await navigator.clipboard.writeText(code).catch(() => {}); copy.textContent = "Copied"; } });
  const dl = el("a", { class: "button", text: "Download", download: `${(res.report && res.report.top) || "design"}.v`,
    href: URL.createObjectURL(new Blob([code], { type: "text/plain" })) });
  const pre = highlight(code); pre.setAttribute("data-testid", "final-code");
  f.replaceChildren(banner, el("div", { class: "toolbar" }, copy, dl), pre);
}

function onEvent(e) {
  const d = e.data;
  if (e.type === "round_started") roundCard(e.round);
  else if (e.type === "token") { const c = candBox(e.round, d.index); c.text += d.text; c.code.textContent = c.text; }
  else if (e.type === "candidate") return onCandidate(e);
  else if (e.type === "feedback") {
    roundCard(e.round).card.append(el("details", { class: "feedback", "data-testid": "feedback" },
      el("summary", { text: "Feedback sent to the model" }), el("pre", { text: d.text })));
  }
}

// ---------------------------------------------------------------- the event stream (fetch, so a token can be sent)

async function follow(jobId) {
  for (let attempt = 0; ; attempt++) {
    try {
      const ctl = new AbortController(); state.abort = ctl;
      const resp = await fetch(`/jobs/${jobId}/events`, { headers: { ...headers(false), "Last-Event-ID": String(state.lastId) }, signal: ctl.signal });
      if (!resp.ok) { const b = await resp.json().catch(() => ({})); throw new ApiError(resp.status, b.error?.code, b.error?.message || `HTTP ${resp.status}`); }
      const reader = resp.body.getReader(); const dec = new TextDecoder(); let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let cut;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, cut); buf = buf.slice(cut + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
          if (!data) continue;
          const ev = JSON.parse(data);
          state.lastId = ev.seq;
          if (ev.type === "done") return ev;
          await onEvent(ev);
        }
      }
    } catch (e) {
      if (e.name === "AbortError") return null;
      if (e.status && e.status !== 0) throw e;
      notice(`Lost the connection to the backend; reconnecting (attempt ${attempt + 1})…`);
      await new Promise((r) => setTimeout(r, Math.min(5000, 500 * (attempt + 1))));
    }
  }
}

async function runJob() {
  const prompt = $("prompt").value.trim();
  if (!prompt) { notice("Type a prompt first (or pick an example)."); return; }
  if ($("token").value) localStorage.setItem("cm-token", $("token").value);
  notice(""); $("final").hidden = true; $("rounds-view").replaceChildren();
  state.rounds.clear(); state.best.clear(); state.lastId = 0;
  $("run").disabled = true;
  try {
    const job = await api("/jobs", { method: "POST", body: JSON.stringify({ prompt, rounds: +$("rounds").value, samples: +$("samples").value, model: $("model").value || null }) });
    state.job = job.id; $("cancel").hidden = false;
    const done = await follow(job.id);
    if (done) showFinal(await api(`/jobs/${job.id}`));
  } catch (e) { notice(explain(e), e.status === 429 ? "busy" : "error"); }
  finally { $("run").disabled = false; $("cancel").hidden = true; }
}

async function cancelJob() {
  if (!state.job) return;
  try { await api(`/jobs/${state.job}`, { method: "DELETE" }); } catch (e) { notice(explain(e)); }
}

// ---------------------------------------------------------------- verify tab

function readFile(input) {
  return new Promise((resolve) => {
    const f = input.files && input.files[0];
    if (!f) return resolve(null);
    const r = new FileReader(); r.onload = () => resolve({ name: f.name, text: r.result }); r.readAsText(f);
  });
}

async function runVerify() {
  const out = $("verify-out");
  const tb = await readFile($("verify-tb"));
  const body = { verilog: $("verify-src").value };
  if ($("verify-suite").value) body.suite = $("verify-suite").value;
  if (tb) { body.testbench = tb.text; body.testbench_name = tb.name; delete body.suite; }
  out.replaceChildren(el("p", { class: "muted", text: "checking…" }));
  try {
    const rep = await api("/verify", { method: "POST", body: JSON.stringify(body) });
    const code = highlight(rep.source || body.verilog);
    const head = rep.passed ? ["pass", "PASS (simulated)"] : rep.level === "static" ? ["static", "Clean, not functionally verified"] : ["fail", `✗ ${rep.category}`];
    out.replaceChildren(el("div", { class: `banner ${head[0]}`, "data-testid": "verify-banner", text: head[1] }), code, stageList(rep, code));
    const sim = (rep.stages.find((s) => s.simulation) || {}).simulation;
    const t = cycleTable(sim); if (t) out.append(t);
  } catch (e) { out.replaceChildren(el("div", { class: "banner fail", text: explain(e) })); }
}

async function refreshJobs() {
  try {
    const { jobs } = await api("/jobs");
    $("jobs-table").querySelector("tbody").replaceChildren(...jobs.map((j) => el("tr", {},
      el("td", { text: j.id }), el("td", { class: j.state, text: j.state }), el("td", { text: j.prompt.slice(0, 80) }),
      el("td", { text: new Date(j.created * 1000).toLocaleString() }))));
  } catch (e) { notice(explain(e)); }
}

// ---------------------------------------------------------------- wiring

for (const b of document.querySelectorAll(".tab")) {
  b.addEventListener("click", () => {
    for (const t of document.querySelectorAll(".tab")) t.classList.toggle("active", t === b);
    for (const p of document.querySelectorAll(".panel")) p.hidden = p.id !== `tab-${b.dataset.tab}`;
    if (b.dataset.tab === "jobs") refreshJobs();
  });
}
$("run").addEventListener("click", runJob);
$("cancel").addEventListener("click", cancelJob);
$("verify-run").addEventListener("click", runVerify);
$("jobs-refresh").addEventListener("click", refreshJobs);
$("verify-file").addEventListener("change", async () => { const f = await readFile($("verify-file")); if (f) $("verify-src").value = f.text; });
$("token").value = localStorage.getItem("cm-token") || "";
loadInfo(); pollHealth();
