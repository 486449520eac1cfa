/**
 * BitLocker through a whole debug cycle with the scripts in a real PowerShell: setup, the restart into the debug
 * entry, teardown from there, the restart back. The model stops at the recovery screen when a restart boots
 * validated settings other than the sealed ones with protection on (learn.microsoft.com "BCD settings and
 * BitLocker"), so a teardown that resumes BitLocker in the debug boot fails here.
 */
import { describe, expect, it } from "vitest";
import { systemClock } from "../../../src/core/interfaces.js";
import { MemoryJournalStore } from "../../../src/io/journal-store.js";
import { defaultState, WindowsTargetModel } from "../../../src/peers/windows-target/model.js";
import { PROFILES } from "../../../src/peers/windows-target/profiles.js";
import { ModelSession } from "../../../src/peers/windows-target/session.js";
import { stubFaults } from "../../../src/peers/windows-target/stubs.js";
import { probeWindows, sessionRunner, setupWindows, teardownWindows } from "../../../src/targets/windows/index.js";
import { noPwsh, useEngine } from "../../helpers/pwsh.js";
import { setupConfig } from "../../helpers/windows-config.js";

const config = setupConfig();
const engine = useEngine();

describe("BitLocker model", () => {
  it("a restart into changed debug settings with protection on ends at the recovery screen; SSH is gone", () => {
    const model = new WindowsTargetModel(defaultState());
    model.bcd(["/debug", "{current}", "on"]);
    model.reboot();
    expect(model.state.recovery).toBe(true);
  });

  it("Secure Boot turned off with protection on (PCR 7) ends at the recovery screen too; suspended, it does not", () => {
    const a = new WindowsTargetModel(defaultState({ secureBoot: "on" }));
    const b = new WindowsTargetModel(defaultState({ secureBoot: "on" }));
    a.state.secureBoot = "off";
    a.reboot();
    expect(a.state.recovery).toBe(true);
    b.suspendBitLocker(b.state.bitlocker[0]!, 1);
    b.state.secureBoot = "off";
    b.reboot();
    expect(b.state.recovery).toBeUndefined();
    expect(b.state.bitlocker[0]!.protectionStatus).toBe("On");
  });
});

describe.skipIf(noPwsh())("BitLocker across setup, the debug boot and teardown (real pwsh)", () => {
  it("teardown in the debug boot suspends for one restart (never resumes): the next normal boot needs no recovery key", async () => {
    const model = new WindowsTargetModel(defaultState());
    const store = new MemoryJournalStore();
    const run = () => sessionRunner(new ModelSession(model, engine()), "win");
    const r = await setupWindows({ run: run(), store, clock: systemClock, config });
    expect(r.report.actions.find((a) => a.id === "bitlocker.suspend")?.outcome).toBe("changed");
    model.reboot(); // into the debug entry (bootsequence), one suspended restart used
    expect(model.state.recovery).toBeUndefined();
    const entry = model.state.store.objects.find((o) => o.id === model.state.currentId);
    expect(String(entry?.elements.description)).toMatch(/\[netdbg\]$/);

    const journal = await store.load("win");
    await teardownWindows({ target: "win", run: run(), journal, store, clock: systemClock });
    const vol = model.state.bitlocker[0]!;
    expect(vol).toMatchObject({ protectionStatus: "Off", rebootCount: 1 });
    model.reboot(); // back to the normal entry
    expect(model.state.recovery).toBeUndefined();
    expect(model.state.bitlocker[0]!.protectionStatus).toBe("On");
    model.reboot(); // and protection, resealed to the normal boot, holds
    expect(model.state.recovery).toBeUndefined();
  }, 60_000);

  it("a rollback in the boot setup ran in resumes BitLocker (nothing is left suspended)", async () => {
    const model = new WindowsTargetModel(defaultState());
    const store = new MemoryJournalStore();
    const run = sessionRunner(new ModelSession(model, engine()), "win");
    await setupWindows({ run, store, clock: systemClock, config });
    const journal = await store.load("win");
    await teardownWindows({ target: "win", run, journal, store, clock: systemClock });
    expect(model.state.bitlocker[0]!.protectionStatus).toBe("On");
    model.reboot();
    expect(model.state.recovery).toBeUndefined();
  }, 60_000);
});

describe.skipIf(noPwsh())("BitLocker on Home with device encryption: no cmdlets, the WMI provider (real pwsh)", () => {
  const home = () => {
    const model = new WindowsTargetModel(PROFILES.home.state());
    // the profile as Windows 11 Home is: no BitLocker module, so Suspend-BitLocker does not exist in the engine
    expect(model.state.modules).not.toContain("BitLocker");
    expect(model.state.deviceEncryption).toBe(true);
    return model;
  };

  it("setup reads protection ON from Win32_EncryptableVolume, suspends with DisableKeyProtectors; teardown restores", async () => {
    const model = home();
    const store = new MemoryJournalStore();
    const run = () => sessionRunner(new ModelSession(model, engine()), "win");
    const facts = await probeWindows(run());
    expect(facts.bitlockerSource).toBe("Win32_EncryptableVolume");
    expect(facts.bitlocker).toEqual([{ mountPoint: "C:", volumeStatus: "FullyEncrypted", protectionStatus: "On" }]);

    const r = await setupWindows({ run: run(), store, clock: systemClock, config });
    expect(r.report.actions.find((a) => a.id === "bitlocker.suspend")?.outcome).toBe("changed");
    expect(model.state.bitlocker[0]).toMatchObject({ protectionStatus: "Off", rebootCount: 2 });
    model.reboot(); // into the debug entry: suspended, so no recovery screen
    expect(model.state.recovery).toBeUndefined();
    expect(String(model.state.store.objects.find((o) => o.id === model.state.currentId)?.elements.description)).toMatch(
      /\[netdbg\]$/,
    );

    await teardownWindows({ target: "win", run: run(), journal: await store.load("win"), store, clock: systemClock });
    expect(model.state.bitlocker[0]).toMatchObject({ protectionStatus: "Off", rebootCount: 1 });
    model.reboot(); // back to the normal entry, protection back on by itself
    expect(model.state.recovery).toBeUndefined();
    expect(model.state.bitlocker[0]!.protectionStatus).toBe("On");
    model.reboot();
    expect(model.state.recovery).toBeUndefined();
  }, 60_000);

  it("a rollback in the boot setup ran in resumes with EnableKeyProtectors", async () => {
    const model = home();
    const store = new MemoryJournalStore();
    const run = sessionRunner(new ModelSession(model, engine()), "win");
    await setupWindows({ run, store, clock: systemClock, config });
    expect(model.state.bitlocker[0]!.protectionStatus).toBe("Off");
    await teardownWindows({ target: "win", run, journal: await store.load("win"), store, clock: systemClock });
    expect(model.state.bitlocker[0]!.protectionStatus).toBe("On");
    expect(model.state.bitlocker[0]!.rebootCount).toBeUndefined();
    model.reboot();
    expect(model.state.recovery).toBeUndefined();
  }, 60_000);

  it("a BitLocker module that fails is no answer: the provider is asked; both failing is unknown (E226)", async () => {
    const model = new WindowsTargetModel(defaultState());
    const run = () => sessionRunner(new ModelSession(model, engine()), "win");
    stubFaults(model).push({ name: "Get-BitLockerVolume", message: "The BitLocker Drive Encryption service is not running." });
    const facts = await probeWindows(run());
    expect(facts.bitlockerSource).toBe("Win32_EncryptableVolume");
    expect(facts.bitlocker.map((v) => [v.mountPoint, v.protectionStatus])).toEqual([["C:", "On"]]);

    stubFaults(model).push(
      { name: "Get-BitLockerVolume", message: "The BitLocker Drive Encryption service is not running." },
      { name: "Get-CimInstance", arg: "Win32_EncryptableVolume", message: "Provider load failure " },
    );
    const e = await setupWindows({ run: run(), store: new MemoryJournalStore(), clock: systemClock, config, check: true }).catch(
      (x: unknown) => x,
    );
    expect((e as { code?: string }).code).toBe("NETDBG-E226");
  }, 60_000);

  it("when the WMI provider fails too, the state is unknown: setup refuses (E226) before any change", async () => {
    const model = home();
    const original = model.storeBytes();
    const store = new MemoryJournalStore();
    const run = sessionRunner(new ModelSession(model, engine()), "win");
    for (let i = 0; i < 2; i++) {
      stubFaults(model).push({
        name: "Get-CimInstance",
        arg: "Win32_EncryptableVolume",
        message: "Provider load failure ",
        terminating: false,
      });
    }
    const e = await setupWindows({ run, store, clock: systemClock, config, check: true }).catch((x: unknown) => x);
    expect((e as { code?: string }).code).toBe("NETDBG-E226");
    const e2 = await setupWindows({ run, store, clock: systemClock, config }).catch((x: unknown) => x);
    expect((e2 as { code?: string }).code).toBe("NETDBG-E226");
    expect(model.storeBytes()).toBe(original);
    expect((await store.load("win")).entries).toEqual([]);
  }, 60_000);
});
