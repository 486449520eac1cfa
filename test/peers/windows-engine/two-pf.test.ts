/**
 * An existing 2PF configuration (kdnet.exe added a secondary PCI function that only KDNET uses, and {dbgsettings}
 * points at it; Get-NetAdapter does not list it): setup leaves it alone (E229, nothing changed) unless --force,
 * which replaces it, journaled, and teardown puts {dbgsettings} back byte for byte. The probe and every change run
 * in the real PowerShell engine against the model; the model's boot leaves the NIC with Windows, as 2PF does.
 */
import { describe, expect, it } from "vitest";
import { systemClock } from "../../../src/core/interfaces.js";
import { MemoryJournalStore } from "../../../src/io/journal-store.js";
import { WindowsTargetModel } from "../../../src/peers/windows-target/model.js";
import { PROFILES } from "../../../src/peers/windows-target/profiles.js";
import { ModelSession } from "../../../src/peers/windows-target/session.js";
import { sessionRunner, setupWindows, teardownWindows, twoPfConfiguration } from "../../../src/targets/windows/index.js";
import { noPwsh, useEngine } from "../../helpers/pwsh.js";
import { setupConfig } from "../../helpers/windows-config.js";

const OLD_KEY = "1abcdefghijkl.2abcdefghijkl.3abcdefghijkl.4abcdefghijkl";
const config = setupConfig();
const engine = useEngine();

/** The pro profile after 'kdnet.exe … -b' set up 2PF on its NIC: KDNET on function 1 of the NIC's bus and device. */
function twoPfModel(): { model: WindowsTargetModel; pf: string } {
  const model = new WindowsTargetModel(PROFILES.pro.state());
  const nic = model.state.nics.find((n) => n.pci)!.pci!;
  const pf = `${nic.bus}.${nic.device}.${nic.function + 1}`;
  for (const args of [
    ["/dbgsettings", "net", "hostip:192.0.2.99", "port:50001", `key:${OLD_KEY}`],
    ["/set", "{dbgsettings}", "busparams", pf],
  ]) {
    expect(model.bcd(args).exitCode, args.join(" ")).toBe(0);
  }
  return { model, pf };
}

describe.skipIf(noPwsh())("2PF: an existing configuration is left alone unless told", () => {
  it("setup stops with E229 naming the added function and the NIC, and changes nothing", async () => {
    const { model, pf } = twoPfModel();
    const original = model.storeBytes();
    const run = sessionRunner(new ModelSession(model, engine()), "win");
    const store = new MemoryJournalStore();
    const e = (await setupWindows({ run, store, clock: systemClock, config }).catch((x: unknown) => x)) as {
      code: string;
      message: string;
      fix: string;
    };
    expect(e.code).toBe("NETDBG-E229");
    expect(e.message).toContain(`PCI ${pf}`);
    expect(e.fix).toContain("--force");
    expect(model.storeBytes()).toBe(original);
    expect((await store.load("win")).entries).toEqual([]);
  }, 120_000);

  it("--force replaces it with a warning; teardown restores the 2PF {dbgsettings} byte for byte", async () => {
    const { model } = twoPfModel();
    const original = model.storeBytes();
    const run = sessionRunner(new ModelSession(model, engine()), "win");
    const store = new MemoryJournalStore();
    const r = await setupWindows({ run, store, clock: systemClock, config: { ...config, force: true } });
    expect(r.plan.warnings.join("\n")).toMatch(/--force: KDNET's 2PF function at PCI \S+ .* is replaced/);
    expect(twoPfConfiguration(r.facts)).toBeDefined();
    await teardownWindows({ target: "win", run, journal: await store.load("win"), store, clock: systemClock });
    expect(model.storeBytes()).toBe(original);
  }, 120_000);

  it("a busparams on a NIC Windows lists, or on another device, is not 2PF", () => {
    const base = {
      dbgsettings: { busparams: "0.3.0" },
      nics: [{ name: "Ethernet", pci: { segment: 0, bus: 0, device: 3, function: 0 }, busparams: "0.3.0" }],
    };
    expect(twoPfConfiguration(base as never)).toBeUndefined();
    expect(twoPfConfiguration({ ...base, dbgsettings: { busparams: "0.4.1" } } as never)).toBeUndefined();
    expect(twoPfConfiguration({ ...base, dbgsettings: { busparams: "0.3.1" } } as never)).toMatchObject({ busparams: "0.3.1" });
    expect(twoPfConfiguration({ ...base, dbgsettings: {} } as never)).toBeUndefined();
  });
});
