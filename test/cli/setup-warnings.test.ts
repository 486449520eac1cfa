/**
 * Warnings travel one way for every OS: the driver returns them, the report logs each once, and `--json` carries
 * them in `warnings` (a Linux warning once stayed in the driver's details and was printed by the Linux renderer).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { captureContext, createContext } from "../../src/cli/context.js";
import { setupFromFlags as setupTarget } from "../helpers/setup-flags.js";
import type { Target } from "../../src/core/inventory.js";
import { LinuxTargetModel } from "../../src/peers/linux-target.js";

const COMPAT = new URL("../../assets/kgdboe-compat", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "nd-warn-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lab: Target = { name: "lab", os: "linux", address: "127.0.0.1", port: 50999 };

async function run(json: boolean) {
  const sink = { out: [] as string[], json: [] as unknown[], log: [] as string[] };
  const ctx = captureContext(createContext({ stateDir: mkdtempSync(join(dir, "s-")), json, color: false }), sink);
  await setupTarget(
    ctx,
    lab,
    { kgdboeSource: COMPAT, connect: false, hostFirewall: false },
    {
      openSession: async () => new LinuxTargetModel(),
      renderer: "silent",
      isPortFree: async () => true,
      // the kgdboe stub stays silent: setup succeeds with the E358 warning
      rspCheck: async (ep) => ({
        outcome: "no-answer",
        endpoint: `udp:${ep.host}:${ep.port}`,
        seconds: 1,
        diagnosis: "nothing came back",
        bytesOut: 10,
        bytesIn: 0,
      }),
    },
  );
  return sink;
}

const e358 = (lines: readonly string[]) => lines.filter((l) => l.includes("NETDBG-E358"));

describe("a Linux setup's warning", () => {
  it("is logged once in the text report, never printed as report text", async () => {
    const sink = await run(false);
    expect(e358(sink.log)).toHaveLength(1);
    expect(e358(sink.log)[0]).toMatch(/^warning: /);
    expect(e358(sink.out)).toEqual([]);
    expect(sink.out.join("\n")).toContain("lab: kgdboe loaded but NOT verified");
  }, 60_000);

  it("is in the --json object's warnings once, with the advice", async () => {
    const sink = await run(true);
    expect(sink.json).toHaveLength(1);
    const obj = sink.json[0] as { warnings: string[]; advice: unknown; os: string };
    expect(obj.os).toBe("linux");
    expect(e358(obj.warnings)).toHaveLength(1);
    expect(Array.isArray(obj.advice)).toBe(true);
  }, 60_000);
});
