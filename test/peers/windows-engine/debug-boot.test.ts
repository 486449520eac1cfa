/**
 * Setup, doctor's probe and teardown run again while the debug entry is booted. There the NIC KDNET owns has no
 * Windows driver: Get-NetAdapter does not list it and the KDNET adapter (KDNIC, ROOT\KDNIC) appears instead; Plug
 * and Play shows the NIC with problem 53 (CM_PROB_USED_BY_DEBUGGER). netdbg finds it there, by its PCI location,
 * so the rerun is unchanged (never E208) and teardown restores the store. Real PowerShell engine and the table.
 */
import { describe, expect, it } from "vitest";
import type { Clock } from "../../../src/core/interfaces.js";
import { systemClock } from "../../../src/core/interfaces.js";
import { MemoryJournalStore } from "../../../src/io/journal-store.js";
import { defaultState, WindowsTargetModel } from "../../../src/peers/windows-target/model.js";
import { ModelSession } from "../../../src/peers/windows-target/session.js";
import { probeWindows, rebootAndWait, sessionRunner, setupWindows, teardownWindows } from "../../../src/targets/windows/index.js";
import { noPwsh, useEngine } from "../../helpers/pwsh.js";
import { setupConfig } from "../../helpers/windows-config.js";

const config = setupConfig();
const engine = useEngine(1);

function fakeClock(): Clock {
  let t = Date.parse("2026-11-21T06:00:00Z");
  return { now: () => new Date(t), sleep: async (ms) => void (t += ms) };
}

for (const where of ["engine", "table"] as const) {
  describe.skipIf(where === "engine" && noPwsh())(`in the debug boot (${where})`, () => {
    it("finds the NIC KDNET owns through Plug and Play; setup again only re-arms the one-time boot; teardown restores the store", async () => {
      const model = new WindowsTargetModel(defaultState());
      const original = model.storeBytes();
      const session = () => sessionRunner(new ModelSession(model, where === "engine" ? engine() : undefined), "win");
      const run = session();
      const store = new MemoryJournalStore();
      const r = await setupWindows({ run, store, clock: systemClock, config: { ...config, nic: "Ethernet" } });
      const back = await rebootAndWait({
        target: "win",
        run,
        close: async () => {},
        reconnect: async () => ({ run: session(), close: async () => {} }),
        clock: fakeClock(),
        intervalMs: 5000,
      });
      expect(back).toMatchObject({ bootedEntry: r.plan.entryGuid, debug: true });

      // as real Windows: the NIC is gone from Get-NetAdapter, KDNIC is there
      const facts = await probeWindows(back.run!, { exportDir: config.exportDir });
      expect(facts.nics.map((n) => n.name)).not.toContain("Ethernet");
      expect(facts.nics.some((n) => /^ROOT\\KDNIC/i.test(n.pnpDeviceId))).toBe(true);
      const owned = facts.nics.find((n) => n.debuggerOwned);
      expect(owned).toMatchObject({
        busparams: "0.3.0",
        supported: true,
        interfaceDescription: "Intel(R) 82574L Gigabit Network Connection",
      });

      // setup again, with the NIC as the user named it and without: found, and only the one-time boot (which the
      // restart consumed) is set again, after a new export of the store (each run its own stamp, as in real runs)
      const changed: string[][] = [];
      for (const [i, nic] of (["Ethernet", undefined] as const).entries()) {
        const again = await setupWindows({
          run: back.run!,
          store,
          clock: systemClock,
          config: { ...config, stamp: `S${i + 2}`, ...(nic ? { nic } : {}) },
        });
        expect(again.plan.nic.busparams).toBe("0.3.0");
        changed.push(again.report.actions.filter((x) => x.outcome === "changed").map((x) => x.id));
      }
      expect(changed).toEqual([["bcd.export", "bcd.bootsequence"], []]);

      await teardownWindows({ target: "win", run: back.run!, journal: await store.load("win"), store, clock: systemClock });
      if (model.storeBytes() !== original) {
        const fs = await import("node:fs");
        fs.writeFileSync("/tmp/a.json", JSON.stringify(JSON.parse(original), null, 1));
        fs.writeFileSync("/tmp/b.json", JSON.stringify(JSON.parse(model.storeBytes()), null, 1));
      }
      expect(model.storeBytes()).toBe(original);
    }, 120_000);
  });
}
