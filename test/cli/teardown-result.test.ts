/**
 * Teardown builds its one `--json` object from the driver's RETURNED result: nothing is captured from a print
 * channel, so a driver that prints nothing still has its actions reported.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createContext } from "../../src/cli/context.js";
import type { OsDriver } from "../../src/core/driver.js";
import type { Target } from "../../src/core/inventory.js";
import { systemClock } from "../../src/core/interfaces.js";
import type { HostFirewallPort } from "../../src/journey/host-firewall.js";
import { runTeardown, teardownJson } from "../../src/journey/teardown.js";
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

    const ctx = createContext({ stateDir: dir, json: true });
    const seen: string[] = [];
    const driver: OsDriver = {
      os: "linux",
      usesKey: false,
      needsHostIp: false,
      prepare: async () => undefined,
      setup: () => Promise.reject(new Error("not used")),
      teardown: async (t, req, deps) => {
        seen.push(`${t.name} ${(await deps.store.load(t.name)).entries.length}`);
        // the driver prints nothing: it returns its result (its text lines never reach --json)
        return {
          target: t.name,
          check: req.check,
          changed: true,
          actions: [{ id: "undo.load", outcome: "changed", command: "rmmod kgdboe" }],
          text: ["lab: 1 recorded change undone; the journal is removed."],
        };
      },
    };
    const r = await runTeardown(
      target,
      { check: false, acceptNewHostKey: false, windows: { via: "ssh" } },
      {
        store,
        clock: systemClock,
        log: ctx.log,
        inventory: ctx.inventory,
        openSession: () => Promise.reject(new Error("no session")),
        firewall: noFirewall,
        drivers: { linux: driver, windows: driver },
      },
    );
    const printed = [teardownJson(r, target)];
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
