/**
 * Ctrl-C at each step of a real `netdbg setup lab` (npm run test:lab): the lab's KGDB kernel under QEMU, over
 * real SSH, with the bundled kgdboe-compatible module built by kbuild in the guest. SIGINT goes to the netdbg
 * process once its journal shows the step started; afterwards the journal is valid, this run's changes are undone
 * (the guest is what it was, by the snapshot) and the outcome is NETDBG-E019 with exit 130 — or, when the signal
 * lands in the last change, the run completes and says so. Each time the rerun converges and teardown restores
 * the guest. Its own lab instance (namespace, veth, /30), so other labs on this machine are left alone.
 */
import { existsSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkJournal } from "../../../src/core/journal.js";
import { type Endpoints, labRig } from "./rig.js";

const rig = labRig("interrupt", process.env.NETDBG_LAB_INSTANCE_INTERRUPT ?? "6");
const journalFile = rig.journalFile("lab");
const SETUP = ["--json", "setup", "lab", "--no-connect"];

interface Entry {
  id: string;
  status: string;
}

function journalEntries(): Entry[] {
  if (!existsSync(journalFile)) return [];
  const checked = checkJournal(JSON.parse(readFileSync(journalFile, "utf8")), "lab");
  if (!("journal" in checked)) throw new Error(`journal invalid: ${checked.problem}`);
  return checked.journal.entries as Entry[];
}

/**
 * Start setup and send SIGINT the moment its journal shows `step` started (pending, or already applied when the
 * step was quicker than one poll). Returns the exit, the output and the step's status when the signal went.
 */
async function interruptAt(step: string) {
  const child = rig.netdbgChild(SETUP, 900_000);
  const t0 = Date.now();
  let statusAtSignal: string | undefined;
  while (Date.now() - t0 < 600_000 && child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 10));
    let entries: Entry[];
    try {
      entries = journalEntries();
    } catch {
      continue; // mid-write by the other process: atomic renames make this rare; read again
    }
    const e = entries.find((x) => x.id === step);
    if (e && (e.status === "pending" || e.status === "applied")) {
      statusAtSignal = e.status;
      child.kill("SIGINT");
      break;
    }
  }
  const r = await child;
  console.log(`[interrupt-it] SIGINT at ${step} (${statusAtSignal ?? "never started"}) -> exit ${r.exitCode}`);
  return { ...r, statusAtSignal };
}

let e: Endpoints;
let pristine: string;

beforeAll(async () => {
  ({ e, pristine } = await rig.prepare("kgdb"));
}, 3_000_000);

afterAll(() => rig.dispose());

describe("Ctrl-C at each step of a real setup on the lab's KGDB kernel", () => {
  // the bundled module's journey on the lab kernel (booted with kgdboc=ttyS1), in the order setup runs them
  const steps = ["workdir.create", "source.upload", "module.build", "kgdboc.release", "module.load"];
  for (const step of steps) {
    it(`at ${step}: the journal stays valid, this run is undone (or completed at the last change); rerun and teardown converge`, async () => {
      const r = await interruptAt(step);
      expect(r.statusAtSignal, r.all).toBeDefined();
      expect(() => journalEntries()).not.toThrow();
      // a quick step may already be done when the signal lands; if the last change had started by then, it completes
      const next = steps[steps.indexOf(step) + 1];
      const completes = step === "module.load" || (r.statusAtSignal === "applied" && next === "module.load" && r.exitCode === 0);
      if (completes) {
        // the last change: once it is done there is nothing left to stop, so the run completes and says so
        expect(r.exitCode, r.all).toBe(0);
        expect(r.stderr).toContain("SIGINT arrived after the last change: the run completed.");
        expect((JSON.parse(r.stdout) as { changed: boolean }).changed).toBe(true);
        const loaded = await rig.ssh(e, "cat /sys/module/kgdboe/parameters/udp_port");
        expect(loaded.stdout).toBe("31337");
      } else {
        expect(r.exitCode, r.all).toBe(130);
        const err = (JSON.parse(r.stdout) as { error: { code: string; message: string; fix: string } }).error;
        expect(err.code).toBe("NETDBG-E019");
        expect(err.message).toMatch(/SIGINT stopped/);
        expect(err.fix).toMatch(/Run the same command again/);
        expect(journalEntries().filter((x) => x.status === "applied")).toEqual([]);
        expect(await rig.snapshot(e)).toBe(pristine);
      }
      const again = await rig.netdbg(SETUP, 900_000);
      expect(again.exitCode, again.all).toBe(0);
      expect((JSON.parse(again.stdout) as { verified: { loaded: boolean } }).verified.loaded).toBe(true);
      const down = await rig.netdbg(["--json", "teardown", "lab"], 600_000);
      expect(down.exitCode, down.all).toBe(0);
      expect(await rig.snapshot(e)).toBe(pristine);
      expect(existsSync(journalFile)).toBe(false);
    }, 1_800_000);
  }
});
