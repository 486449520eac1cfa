/**
 * setup --check, setup, doctor, setup --reboot and teardown on every profile, with netdbg's scripts running in
 * a real PowerShell (the engine) against the profile's Windows. Where a profile lacks a capability (no Hyper-V
 * module, no BitLocker cmdlets) netdbg's answer is the documented one — here: the step is skipped, or done another
 * way (BitLocker through its WMI provider on Home) — and never NETDBG-E212 from a missing cmdlet.
 */
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Clock } from "../../../src/core/interfaces.js";
import { systemClock } from "../../../src/core/interfaces.js";
import { bcdCheck, bitlockerCheck, secureBootCheck } from "../../../src/doctor/checks-windows.js";
import { runChecks } from "../../../src/doctor/run.js";
import { MemoryJournalStore } from "../../../src/io/journal-store.js";
import { WindowsTargetModel } from "../../../src/peers/windows-target/model.js";
import { PROFILE_NAMES, PROFILES } from "../../../src/peers/windows-target/profiles.js";
import { ModelSession } from "../../../src/peers/windows-target/session.js";
import { probeWindows, rebootAndWait, sessionRunner, setupWindows, teardownWindows } from "../../../src/targets/windows/index.js";
import { noPwsh, useEngine } from "../../helpers/pwsh.js";
import { KEY, setupConfig } from "../../helpers/windows-config.js";

const config = setupConfig();

const engine = useEngine();

function fakeClock(): Clock {
  let t = Date.parse("2026-11-21T06:00:00Z");
  return {
    now: () => new Date(t),
    sleep: async (ms) => {
      t += ms;
    },
  };
}

describe.skipIf(noPwsh())("the Windows journey in a real PowerShell, every profile", () => {
  for (const name of PROFILE_NAMES) {
    it(`${name}: ${PROFILES[name].describe}`, async () => {
      const model = new WindowsTargetModel(PROFILES[name].state());
      // BitLocker's state is read through its cmdlets or, on Home with device encryption, through the WMI provider
      const hasBitLocker =
        model.state.bitlocker.length > 0 &&
        ((model.state.modules ?? []).includes("BitLocker") || model.state.deviceEncryption === true);
      const original = model.storeBytes();
      const session = () => sessionRunner(new ModelSession(model, engine()), "win");
      const run = session();
      const store = new MemoryJournalStore();

      // --check: the plan, nothing run that changes anything
      const check = await setupWindows({ run, store, clock: systemClock, config, check: true });
      expect(check.report.actions.every((a) => a.outcome === "skipped")).toBe(true);
      expect(check.report.actions.some((a) => a.id === "bitlocker.suspend")).toBe(hasBitLocker);
      expect(model.storeBytes()).toBe(original);

      // setup: applied and verified through the real scripts
      const r = await setupWindows({ run, store, clock: systemClock, config });
      expect(r.verified?.dbgsettings).toMatchObject({ hostip: "192.0.2.10", port: 50005 });
      expect(r.plan.nic.name).toBe("Ethernet");
      if (hasBitLocker) expect(model.state.bitlocker[0]!.protectionStatus).toBe("Off");

      // doctor's Windows checks over the probe: verdicts, never a script failure
      const results = await runChecks(
        {
          target: { name: "win", os: "windows", address: "192.0.2.50", port: 50005 },
          windowsFacts: () => probeWindows(run),
          storedKey: async () => KEY,
        },
        [secureBootCheck, bitlockerCheck, bcdCheck],
      );
      for (const c of results) expect(c.code ?? "", `${c.id}: ${c.message}`).not.toBe("NETDBG-E212");
      expect(results.find((c) => c.id === "windows.bcd")?.status).toBe("ok");

      // --reboot: the debug entry boots once
      const back = await rebootAndWait({
        target: "win",
        run,
        close: async () => {},
        reconnect: async () => ({ run: session(), close: async () => {} }),
        clock: fakeClock(),
        intervalMs: 5000,
      });
      // read through the BCD WMI provider: also where bcdedit's Yes/No (是/否) arrives as CP936 bytes
      expect(back).toMatchObject({ bootedEntry: r.plan.entryGuid, debug: true });

      // teardown: the store as it was
      await teardownWindows({ target: "win", run: back.run!, journal: await store.load("win"), store, clock: systemClock });
      expect(model.storeBytes()).toBe(original);
      if (hasBitLocker) {
        // suspended for one more restart, never resumed in the debug boot; then back on, no recovery screen
        expect(model.state.bitlocker[0]).toMatchObject({ protectionStatus: "Off", rebootCount: 1 });
        model.reboot();
        expect(model.state.recovery).toBeUndefined();
        expect(model.state.bitlocker[0]!.protectionStatus).toBe("On");
      }
    }, 60_000);
  }

  it("ran every template in templates/windows in the engine", () => {
    const all = readdirSync(new URL("../../../templates/windows/", import.meta.url))
      .filter((f) => f.endsWith(".ps1"))
      .map((f) => f.replace(/\.ps1$/, ""))
      .sort();
    expect(all.length).toBeGreaterThanOrEqual(8);
    expect([...engine().executed].sort()).toEqual(all);
  });
});
