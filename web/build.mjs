// Build the page into ../circuit_muse/service/static (committed, so pip users need no Node).
// `node build.mjs --check` builds into a temporary folder and fails if any byte differs from the
// committed build: the same sources and lockfile always give the same files.
import { build } from "esbuild";
import { mkdtempSync, readFileSync, readdirSync, rmSync, copyFileSync, mkdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const committed = join(here, "..", "circuit_muse", "service", "static");
const check = process.argv.includes("--check");
const out = check ? mkdtempSync(join(tmpdir(), "cm-web-")) : committed;

async function run() {
  if (!check) rmSync(join(out, "assets"), { recursive: true, force: true });
  mkdirSync(join(out, "assets"), { recursive: true });
  await build({
    entryPoints: { app: join(here, "src", "main.js") },
    bundle: true, minify: true, format: "iife", target: ["es2020"], outdir: join(out, "assets"),
    legalComments: "eof", logLevel: "warning", charset: "utf8", sourcemap: false,
    loader: { ".css": "css" },
  });
  copyFileSync(join(here, "src", "index.html"), join(out, "index.html"));
  if (!check) return;
  const files = (dir) => readdirSync(dir).flatMap((f) => statSync(join(dir, f)).isDirectory()
    ? files(join(dir, f)) : [join(dir, f)]);
  const built = files(out).map((f) => relative(out, f)).sort();
  const have = files(committed).map((f) => relative(committed, f)).sort();
  const problems = [];
  if (JSON.stringify(built) !== JSON.stringify(have)) problems.push(`file lists differ: built ${built} vs committed ${have}`);
  for (const f of built) {
    try {
      if (!readFileSync(join(out, f)).equals(readFileSync(join(committed, f)))) problems.push(`${f} differs`);
    } catch { problems.push(`${f} missing from the committed build`); }
  }
  rmSync(out, { recursive: true, force: true });
  if (problems.length) {
    console.error("web build is stale: run `npm ci && npm run build` in web/ and commit\n" + problems.join("\n"));
    process.exit(1);
  }
  console.log(`web build matches the sources (${built.length} files)`);
}
run().catch((e) => { console.error(e); process.exit(1); });
