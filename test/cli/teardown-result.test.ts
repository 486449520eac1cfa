/**
 * Teardown builds its one `--json` object from the OS half's RETURNED result: nothing is captured from a child
 * context's print channel, so an OS half that prints nothing still has its actions reported.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { teardownTarget } from "../../src/cli/commands/teardown.js";
import { createContext } from "../../src/cli/context.js";
import type { HostFirewallPort } from "../../src/cli/journey.js";
import type { Target } from "../../src/core/inventory.js";
import { newEntry } from "../../src/core/journal.js";
import { MemoryJournalStore } from "../../src/io/journal-store.js";

const dir = mkdtempSync(join(tmpdir(), "netdbg-teardown-result-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const target: Target = { name: "lab", os: "linux", address: "192.0.2.7" };
const noFirewall: HostFirewallPort = {
  request: () => Promise.reject(new Error("the host firewall is not asked: no host entry")),
  step: () => {
    throw new Error("the host firewall is not asked: no host entry");
  },
};

describe("teardown's --json object", () => {
  it("carries the OS half's returned actions, marked where: target, and is printed once", async () => {
    const store = new MemoryJournalStore();
    const j = await store.load("lab");
    const e = newEntry(
      "load",
      { id: "kgdboe.load", title: "load kgdboe", where: "target", command: "modprobe kgdboe" },
      new Date(),
    );
    e.status = "applied";
    j.entries.push(e);
    await store.save(j);

    const printed: unknown[] = [];
    const ctx = { ...createContext({ stateDir: dir, json: true }), json: (v: unknown) => void printed.push(v) };
    const seen: string[] = [];
    await teardownTarget(
      ctx,
      target,
      {},
      {
        store,
        firewall: noFirewall,
        os: async (_c, t, o, view) => {
          seen.push(`${t.name} ${(await view.load(t.name)).entries.length}`);
          // the OS half prints nothing with --json: it returns its result
          return {
            target: t.name,
            check: Boolean(o.check),
            changed: true,
            actions: [{ id: "undo.load", outcome: "changed", command: "rmmod kgdboe" }],
          };
        },
      },
    );
    expect(seen).toEqual(["lab 1"]);
    expect(printed).toEqual([
      {
        target: "lab",
        check: false,
        changed: true,
        actions: [{ where: "target", id: "undo.load", outcome: "changed", command: "rmmod kgdboe" }],
        notes: [],
      },
    ]);
  });
});
