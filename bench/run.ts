/**
 * `npm run bench [-- --json] [-- names…]`: runs every bench/<name>.ts that exports `name` and `run()`, prints a
 * table (or one JSON object keyed by benchmark name). Benchmarks measure; they never fail the test suite.
 * Stable keys: rsp.kgdb.ratio, rsp.kgdboe.ratio, rsp.kgdboe.rawRatio, rsp.loss.kgdb, rsp.loss.kgdboe (the lab's
 * links, when its image is built; rsp.<link>.rawOverGdb is the minimal client's own ratio to gdb, the ceiling of netdbg's), rsp.stub.rawRatio and rsp.loss.stub (no lab needed), startup.ratio, demo.seconds, doctor.seconds,
 * ssh.execMs and ssh.execInputMs (one command against OpenSSH's sshd, as root); every result has `load`.
 */
import { readdirSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { fileURLToPath } from "node:url";

interface BenchModule {
  name: string;
  run: () => Promise<Record<string, unknown>>;
}

const args = process.argv.slice(2);
const json = args.includes("--json");
const only = args.filter((a) => !a.startsWith("--"));
const dir = fileURLToPath(new URL(".", import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts" && !f.startsWith("_"))
  .sort((a, b) => (a === "startup.ts" ? -1 : b === "startup.ts" ? 1 : a.localeCompare(b)));

const results: Record<string, Record<string, unknown>> = {};
for (const f of files) {
  const mod = (await import(new URL(f, import.meta.url).href)) as Partial<BenchModule>;
  if (typeof mod.run !== "function" || typeof mod.name !== "string") continue;
  if (only.length && !only.includes(mod.name)) continue;
  if (!json) process.stderr.write(`running ${mod.name}…\n`);
  const loadBefore = loadavg()[0]!;
  try {
    results[mod.name] = await mod.run();
  } catch (e) {
    results[mod.name] = { error: e instanceof Error ? e.message : String(e) };
  }
  // the machine's 1-minute load average before and after, beside every figure (a busy machine slows them all)
  results[mod.name]!.load = {
    before: Number(loadBefore.toFixed(2)),
    after: Number(loadavg()[0]!.toFixed(2)),
    cpus: availableParallelism(),
  };
}

if (json) {
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
} else {
  for (const [name, figures] of Object.entries(results)) {
    process.stdout.write(`\n${name}\n`);
    const width = Math.max(...Object.keys(figures).map((k) => k.length));
    for (const [k, v] of Object.entries(figures)) {
      process.stdout.write(`  ${k.padEnd(width)}  ${typeof v === "object" ? JSON.stringify(v) : String(v)}\n`);
    }
  }
}
process.exit(Object.values(results).some((r) => "error" in r) ? 1 : 0);
