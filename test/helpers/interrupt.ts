/**
 * Signal a `netdbg` run (the CLI from source) while a chosen step is in flight: start it, poll its journal until
 * the step shows `pending`, then send `signals` SIGINTs 50 ms apart. Shared by the Linux and Windows Ctrl-C tests.
 */
import { existsSync, readFileSync } from "node:fs";
import { checkJournal } from "../../src/core/journal.js";
import { spawnCli } from "./cli.js";

/** The journal's entries, validated by netdbg's own schema (throws when it is not a valid journal). */
export function journalEntries(file: string, target: string) {
  const checked = checkJournal(JSON.parse(readFileSync(file, "utf8")), target);
  if (!("journal" in checked)) throw new Error(`journal invalid: ${checked.problem}`);
  return checked.journal.entries;
}

export interface InterruptAt {
  args: string[];
  env: Record<string, string>;
  journalFile: string;
  target: string;
  step: string;
  signals?: number;
  pollMs?: number;
  startBudgetMs?: number;
}

export async function interruptAt(o: InterruptAt): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnCli(o.args, "src", { env: o.env });
  child.stdin.end();
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const t0 = Date.now();
  for (;;) {
    if (Date.now() - t0 > (o.startBudgetMs ?? 90_000)) {
      child.kill("SIGKILL");
      throw new Error(`${o.step} never started:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, o.pollMs ?? 25));
    if (!existsSync(o.journalFile)) continue;
    try {
      if (journalEntries(o.journalFile, o.target).some((e) => e.id === o.step && e.status === "pending")) break;
    } catch {
      // written while we read it (the store writes atomically, so this is a retry, not a failure)
    }
  }
  for (let i = 0; i < (o.signals ?? 1); i++) {
    child.kill("SIGINT");
    await new Promise((r) => setTimeout(r, 50));
  }
  return { code: await done, stdout, stderr };
}
