/**
 * Teardown restores {dbgsettings} through the BCD WMI provider (templates/windows/bcd-restore-object.ps1 in a
 * real PowerShell), never through bcdedit's localized text: on a machine in any display language the store ends
 * byte for byte as it was. The machines here had KDNET settings of their own before setup, with `dhcp` off: a
 * boolean bcdedit displays in the machine's language (pl-PL "Nie", de-DE "Nein", zh-CN "否"), the value a
 * table of displayed words could not map back in a language it did not list.
 */
import { describe, expect, it } from "vitest";
import { systemClock } from "../../../src/core/interfaces.js";
import { MemoryJournalStore } from "../../../src/io/journal-store.js";
import { serializeStore } from "../../../src/peers/windows-target/bcd.js";
import { defaultState, WindowsTargetModel } from "../../../src/peers/windows-target/model.js";
import { ModelSession } from "../../../src/peers/windows-target/session.js";
import { bcdElement, parseBcdBoolean } from "../../../src/targets/windows/bcdedit-parse.js";
import { bcdCheck } from "../../../src/doctor/checks-windows.js";
import { runChecks } from "../../../src/doctor/run.js";
import { rebootAndWait, sessionRunner, setupWindows, teardownWindows } from "../../../src/targets/windows/index.js";
import { probeWindows } from "../../../src/targets/windows/probe.js";
import { noPwsh, useEngine } from "../../helpers/pwsh.js";
import { KEY, setupConfig } from "../../helpers/windows-config.js";

const config = setupConfig();
const engine = useEngine();

function machine(locale: "pl-PL" | "de-DE" | "zh-CN" | "en-US") {
  const model = new WindowsTargetModel(defaultState({ locale }));
  // an earlier KDNET setup of the owner's, to another host, without DHCP
  expect(model.bcd(["/dbgsettings", "net", "hostip:198.51.100.7", "port:50123", "key:1.2.3.4", "nodhcp"]).exitCode).toBe(0);
  return model;
}

describe("BCD WMI provider model", () => {
  it("reads typed elements by id, with no words of the display language", () => {
    const model = machine("pl-PL");
    expect(model.bcd(["/dbgsettings"]).output).toMatch(/^dhcp\s+Nie\r$/m);
    const store = model.bcdWmi("BcdStore", "OpenStore", undefined, { File: "" }).value!.Store as Record<string, unknown>;
    const obj = model.bcdWmi("BcdStore", "OpenObject", store, { Id: "{4636856e-540f-4170-a130-a84776f4c654}" }).value!
      .Object as Record<string, unknown>;
    const els = model.bcdWmi("BcdObject", "EnumerateElements", obj, {}).value!.Elements as Record<string, unknown>[];
    const byType = new Map(els.map((e) => [e.Type, e]));
    expect(byType.get(0x1600001c)).toMatchObject({ Boolean: false }); // BcdLibraryBoolean_DebuggerNetDhcp
    expect(byType.get(0x15000011)).toMatchObject({ Integer: "3" }); // DebuggerType: DebuggerNet = 3
    expect(byType.get(0x1500001b)).toMatchObject({ Integer: "50123" });
    expect(byType.get(0x1200001d)).toMatchObject({ String: "1.2.3.4" });
    // a setter of the wrong format for the element is refused, as the provider does
    expect(model.bcdWmi("BcdObject", "SetStringElement", obj, { Type: 0x1600001c, String: "Tak" }).error).toBeDefined();
    expect(model.bcdWmi("BcdObject", "SetBooleanElement", obj, { Type: 0x1600001c, Boolean: true }).value).toEqual({
      ReturnValue: true,
    });
    expect(model.bcd(["/dbgsettings"]).output).toMatch(/^dhcp\s+Tak\r$/m);
  });

  it("an export that is not there is an error, not an empty store", () => {
    const model = machine("en-US");
    expect(model.bcdWmi("BcdStore", "OpenStore", undefined, { File: "C:\\nope.bak" }).error).toMatch(/cannot find/);
  });
});

describe.skipIf(noPwsh())("teardown restores the BCD store byte for byte in any language (real pwsh)", () => {
  for (const locale of ["pl-PL", "de-DE", "zh-CN", "en-US"] as const) {
    it(`${locale}: setup over the owner's KDNET settings, teardown, the store is what it was`, async () => {
      const model = machine(locale);
      const before = serializeStore(model.state.store);
      const store = new MemoryJournalStore();
      const run = () => sessionRunner(new ModelSession(model, engine()), "win");
      const r = await setupWindows({ run: run(), store, clock: systemClock, config });
      expect(r.report.actions.find((a) => a.id === "bcd.dbgsettings")?.outcome).toBe("changed");
      expect(serializeStore(model.state.store)).not.toBe(before);
      const journal = await store.load("win");
      await teardownWindows({ target: "win", run: run(), journal, store, clock: systemClock });
      expect(serializeStore(model.state.store)).toBe(before);
      expect(engine().executed.has("bcd-restore-object")).toBe(true);
    }, 90_000);
  }
});

describe.skipIf(noPwsh())("the probe reads BCD booleans through the provider (real pwsh)", () => {
  it("vi-VN ('Có'/'Không', in no table): dhcp off and debug on are read right, and setup sees dhcp must change", async () => {
    const model = new WindowsTargetModel(defaultState({ locale: "vi-VN" }));
    // the owner's own KDNET settings: netdbg's host, port and key, but without DHCP
    model.bcd(["/dbgsettings", "net", `hostip:${config.hostIp}`, `port:${config.port}`, `key:${config.key}`, "nodhcp"]);
    model.bcd(["/debug", "{current}", "on"]);
    expect(model.bcd(["/dbgsettings"]).output).toMatch(/^dhcp\s+Không\r$/m);
    const run = sessionRunner(new ModelSession(model, engine()), "win");
    const facts = await probeWindows(run, { exportDir: "C:\\ProgramData\\netdbg" });
    expect(facts.dbgsettings.dhcp).toBe(false);
    expect(facts.current && parseBcdBoolean(bcdElement(facts.current, "debug") ?? "")).toBe(true);
    const store = new MemoryJournalStore();
    const r = await setupWindows({ run, store, clock: systemClock, config });
    expect(r.report.actions.find((a) => a.id === "bcd.dbgsettings")?.outcome).toBe("changed");
    expect(model.state.store.objects.find((o) => o.kind === "dbgsettings")?.elements.dhcp).toBe(true);
  }, 90_000);
});

describe.skipIf(noPwsh())("--reboot and doctor read the running entry's debug flag through the provider (real pwsh)", () => {
  const clock = () => {
    let t = Date.parse("2026-11-21T06:00:00Z");
    return { now: () => new Date(t), sleep: async (ms: number) => void (t += ms) };
  };
  for (const locale of ["vi-VN", "pl-PL"] as const) {
    it(`${locale}: the debug boot is read as debugging, the normal boot as not`, async () => {
      const model = new WindowsTargetModel(defaultState({ locale }));
      const session = () => sessionRunner(new ModelSession(model, engine()), "win");
      const run = session();
      const store = new MemoryJournalStore();
      const r = await setupWindows({ run, store, clock: systemClock, config });
      const wait = (from: typeof run) =>
        rebootAndWait({
          target: "win",
          run: from,
          close: async () => {},
          reconnect: async () => ({ run: session(), close: async () => {} }),
          clock: clock(),
          intervalMs: 5000,
        });
      const back = await wait(run);
      expect(back).toMatchObject({ bootedEntry: r.plan.entryGuid, debug: true });
      // bcdedit shows it in the display language only
      expect(model.bcd(["/enum", "{current}"]).output).toMatch(locale === "vi-VN" ? /^debug\s+Có\r$/m : /^debug\s+Tak\r$/m);
      const doctor = await runChecks(
        {
          target: { name: "win", os: "windows", address: "192.0.2.50", port: 50005 },
          windowsFacts: () => probeWindows(back.run!),
          storedKey: async () => KEY,
        },
        [bcdCheck],
      );
      expect(doctor.find((c) => c.id === "windows.bcd")?.message).toMatch(/The running entry debugs\./);
      // the one-time boot is spent: the next restart is the normal entry, which does not debug
      const normal = await wait(back.run!);
      expect(normal.bootedEntry).not.toBe(r.plan.entryGuid);
      expect(normal.debug).toBe(false);
      await teardownWindows({ target: "win", run: normal.run!, journal: await store.load("win"), store, clock: systemClock });
    }, 120_000);
  }
});
