import { describe, expect, it } from "vitest";
import { isNetdbgError } from "../../../src/core/error.js";
import { systemClock } from "../../../src/core/interfaces.js";
import { MemoryJournalStore } from "../../../src/io/journal-store.js";
import { bcdValues, parseBcdEnum } from "../../../src/targets/windows/bcdedit-parse.js";
import {
  parseDbgSettings,
  sessionRunner,
  setupWindows,
  teardownWindows,
  type WindowsSetupConfig,
} from "../../../src/targets/windows/index.js";
import { defaultState, WindowsTargetModel, type WindowsTargetState } from "../../../src/peers/windows-target/model.js";
import { ModelSession } from "../../../src/peers/windows-target/session.js";
import { fixture } from "./fixtures.js";
import { setupConfig } from "../../helpers/windows-config.js";

const KEY = "1a2b3c4d5e6f7.2b3c4d5e6f7g8.3c4d5e6f7g8h9.4d5e6f7g8h9i0";

function rig(over: Partial<WindowsTargetState> = {}) {
  const model = new WindowsTargetModel(defaultState(over));
  const session = new ModelSession(model);
  const run = sessionRunner(session, "win");
  const store = new MemoryJournalStore();
  const config = setupConfig({ key: KEY, stamp: "20261121T060000Z" });
  return { model, session, run, store, config };
}

async function expectCode(p: Promise<unknown>, code: string) {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(isNetdbgError(e), String(e)).toBe(true);
  expect((e as { code: string }).code).toBe(code);
  return e;
}

describe("Windows setup against the target model", () => {
  it("produces a dbgsettings that reads back equal to the plan, and a one-time boot entry", async () => {
    const { model, run, store, config } = rig();
    const r = await setupWindows({ run, store, clock: systemClock, config });
    const back = parseDbgSettings(model.bcd(["/dbgsettings"]).output);
    expect(back).toMatchObject({ ...r.plan.expected, dhcp: true });
    expect(r.plan.expected).toEqual({ debugtype: "NET", hostip: "192.0.2.10", port: 50005, key: KEY, busparams: "0.3.0" });
    expect(r.report.actions.map((a) => [a.id, a.outcome])).toEqual([
      ["bcd.export", "changed"],
      ["bcd.copy", "changed"],
      ["bcd.displayorder", "changed"],
      ["bcd.debug", "changed"],
      ["bcd.dbgsettings", "changed"],
      ["bcd.busparams", "changed"],
      ["bitlocker.suspend", "changed"],
      ["bcd.bootsequence", "changed"],
    ]);
    const guid = r.plan.entryGuid!;
    expect(guid).toMatch(/^\{[0-9a-f-]{36}\}$/);
    const bm = model.bcd(["/enum", "{bootmgr}", "/v"]).output;
    expect(bm).toContain(`bootsequence            ${guid}`);
    expect(model.bcd(["/enum", guid]).output).toMatch(/description\s+Windows 11 \[netdbg\]\r\n[\s\S]*debug\s+Yes\r\n/);
    // the original entry is untouched: no debug flag on {current}
    expect(model.bcd(["/enum", "{current}"]).output).not.toMatch(/^debug\s/m);
    expect(model.state.bitlocker[0]).toMatchObject({ protectionStatus: "Off", rebootCount: 2 });
    // the journal holds every action with its undo, and never the key
    const saved = store.saved.get("win")!;
    expect(saved).not.toContain(KEY);
    expect(JSON.parse(saved).entries.map((e: { id: string; status: string }) => `${e.id}:${e.status}`)).toEqual([
      "bcd.export:applied",
      "bcd.copy:applied",
      "bcd.displayorder:applied",
      "bcd.debug:applied",
      "bcd.dbgsettings:applied",
      "bcd.busparams:applied",
      "bitlocker.suspend:applied",
      "bcd.bootsequence:applied",
    ]);
  });

  it("a second run changes nothing", async () => {
    const { model, run, store, config } = rig();
    await setupWindows({ run, store, clock: systemClock, config });
    const before = model.storeBytes();
    const journalBefore = store.saved.get("win");
    const r2 = await setupWindows({ run, store, clock: systemClock, config: { ...config, stamp: "20261121T070000Z" } });
    expect(r2.report.changed).toBe(false);
    expect(r2.report.actions.every((a) => a.outcome === "unchanged")).toBe(true);
    expect(model.storeBytes()).toBe(before);
    expect(store.saved.get("win")).toBe(journalBefore);
    expect(Object.keys(model.state.files).filter((f) => f.endsWith(".bak"))).toHaveLength(1);
  });

  it("teardown restores the original store byte for byte and resumes BitLocker", async () => {
    const { model, run, store, config } = rig();
    const original = model.storeBytes();
    await setupWindows({ run, store, clock: systemClock, config: { ...config, noKdnic: false } });
    expect(model.storeBytes()).not.toBe(original);
    const journal = await store.load("win");
    await teardownWindows({ target: "win", run, journal, store, clock: systemClock });
    expect(model.storeBytes()).toBe(original);
    expect(model.state.bitlocker[0]!.protectionStatus).toBe("On");
    expect(store.saved.has("win")).toBe(false);
  });

  it("Secure Boot on stops before any change", async () => {
    const { model, session, run, store, config } = rig({ secureBoot: "on" });
    const original = model.storeBytes();
    await expectCode(setupWindows({ run, store, clock: systemClock, config }), "NETDBG-E201");
    expect(model.storeBytes()).toBe(original);
    expect(model.received.map((r) => r.script)).toEqual(["whoami", "probe"]);
    expect(session.commands).toHaveLength(2);
    expect(store.saved.size).toBe(0);
  });

  it("a non-elevated session stops first with E200", async () => {
    const { model, run, store, config } = rig({ elevated: false });
    await expectCode(setupWindows({ run, store, clock: systemClock, config }), "NETDBG-E200");
    expect(model.received.map((r) => r.script)).toEqual(["whoami"]);
  });
});

describe("a failure at each step leaves the store as it was (rollback)", () => {
  const steps: { id: string; script: string; bcdArg?: string }[] = [
    { id: "bcd.export", script: "bcd-export" },
    { id: "bitlocker.suspend", script: "bitlocker" },
    { id: "bcd.copy", script: "bcdedit", bcdArg: "/copy" },
    { id: "bcd.debug", script: "bcdedit", bcdArg: "/debug" },
    { id: "bcd.dbgsettings", script: "bcdedit", bcdArg: "/dbgsettings" },
    { id: "bcd.busparams", script: "bcdedit", bcdArg: "/set" },
    { id: "bcd.loadoptions", script: "bcdedit", bcdArg: "/set" },
    { id: "bcd.bootsequence", script: "bcdedit", bcdArg: "/bootsequence" },
  ];
  for (const mode of ["before", "after"] as const) {
    for (const [i, s] of steps.entries()) {
      it(`${s.id} fails ${mode === "before" ? "before changing anything" : "after its change, as the connection drops"}`, async () => {
        const { model, run, store, config } = rig({ locale: i % 2 ? "zh-CN" : "en-US" });
        const original = model.storeBytes();
        // busparams and loadoptions are both '/set': let the first one (busparams) through
        model.injections.push({
          script: s.script,
          ...(s.bcdArg ? { bcdArg: s.bcdArg } : {}),
          mode,
          ...(s.id === "bcd.loadoptions" ? { skip: 1 } : {}),
        });
        const err = await setupWindows({ run, store, clock: systemClock, config: { ...config, noKdnic: true } }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isNetdbgError(err), String(err)).toBe(true);
        expect(model.injections).toHaveLength(0); // the injection fired
        expect(model.storeBytes()).toBe(original);
        expect(model.state.bitlocker[0]!.protectionStatus).toBe("On");
        const j = JSON.parse(store.saved.get("win")!);
        const last = j.entries.at(-1);
        expect(last.id).toBe(s.id);
        expect(last.status).toBe(s.id === "bcd.export" ? "failed" : "undone");
        // every earlier change is undone; the export changed nothing and has no undo
        for (const e of j.entries.slice(0, -1))
          expect([e.id, e.status]).toEqual([e.id, e.id === "bcd.export" ? "applied" : "undone"]);
        expect(store.saved.get("win")).not.toContain(KEY);
      });
    }
  }
});

describe("setup details", () => {
  it("--check prints every command and changes nothing", async () => {
    const { model, run, store, config } = rig();
    const original = model.storeBytes();
    const r = await setupWindows({ run, store, clock: systemClock, config: { ...config, noKdnic: true }, check: true });
    expect(r.report.actions.map((a) => a.outcome).every((o) => o === "skipped")).toBe(true);
    expect(r.report.actions.map((a) => a.command)).toEqual([
      "templates/windows/bcd-export.ps1 -Path 'C:\\ProgramData\\netdbg\\bcd-20261121T060000Z.bak'",
      "bcdedit.exe /copy '{current}' /d 'Windows 11 [netdbg]'",
      "bcdedit.exe /displayorder '{netdbg-entry}' /remove",
      "bcdedit.exe /debug '{netdbg-entry}' on",
      `bcdedit.exe /dbgsettings net hostip:192.0.2.10 port:50005 key:${KEY}`,
      "bcdedit.exe /set '{dbgsettings}' busparams 0.3.0",
      "bcdedit.exe /set '{netdbg-entry}' loadoptions NO_KDNIC",
      "templates/windows/bitlocker.ps1 -MountPoint 'C:' -Operation 'suspend' -RebootCount 2",
      "bcdedit.exe /bootsequence '{netdbg-entry}'",
    ]);
    expect(model.storeBytes()).toBe(original);
    expect(model.received.map((x) => x.script)).toEqual(["whoami", "probe"]);
    expect(store.saved.size).toBe(0);
  });

  it("works the same whether the SSH server's default shell is cmd.exe or PowerShell, in any display language", async () => {
    for (const defaultShell of ["cmd", "powershell"] as const) {
      for (const locale of ["en-US", "de-DE", "zh-CN"] as const) {
        const { model, run, store, config } = rig({ defaultShell, locale });
        const original = model.storeBytes();
        const r = await setupWindows({ run, store, clock: systemClock, config });
        expect(r.verified?.dbgsettings).toMatchObject(r.plan.expected);
        const r2 = await setupWindows({ run, store, clock: systemClock, config });
        expect(r2.report.changed).toBe(false);
        await teardownWindows({ target: "win", run, journal: await store.load("win"), store, clock: systemClock });
        expect(model.storeBytes()).toBe(original);
      }
    }
  });

  it("--make-default sets the default entry instead of a one-time boot, and teardown puts the old default back", async () => {
    const { model, run, store, config } = rig();
    const original = model.storeBytes();
    const r = await setupWindows({ run, store, clock: systemClock, config: { ...config, makeDefault: true } });
    expect(r.report.actions.map((a) => a.id)).toContain("bcd.default");
    expect(model.bcd(["/enum", "{bootmgr}", "/v"]).output).toMatch(
      new RegExp(`default\\s+${r.plan.entryGuid!.replace(/[{}]/g, "\\$&")}`),
    );
    await teardownWindows({ target: "win", run, journal: await store.load("win"), store, clock: systemClock });
    expect(model.storeBytes()).toBe(original);
  });

  it("an existing NET dbgsettings with another key is restored by teardown without the old key leaving the target", async () => {
    const { model, run, store, config } = rig();
    model.bcd(["/dbgsettings", "net", "hostip:198.51.100.1", "port:50001", "key:old0.old1.old2.old3"]);
    model.bcd(["/set", "{dbgsettings}", "busparams", "1.0.0"]);
    const original = model.storeBytes();
    await setupWindows({ run, store, clock: systemClock, config });
    expect(store.saved.get("win")).not.toContain("old0.old1");
    expect(model.received.some((x) => JSON.stringify(x.params).includes("old0"))).toBe(false);
    await teardownWindows({ target: "win", run, journal: await store.load("win"), store, clock: systemClock });
    expect(model.storeBytes()).toBe(original);
    expect(parseDbgSettings(model.bcd(["/dbgsettings"]).output)).toMatchObject({
      key: "old0.old1.old2.old3",
      busparams: "1.0.0",
      port: 50001,
    });
  });

  it("Secure Boot that the probe could not see (registry says 0 in Setup Mode) is refused by bcdedit and rolled back", async () => {
    const { model, run, store, config } = rig();
    const original = model.storeBytes();
    // the probe reports off, but the firmware enforces: bcdedit refuses /debug like the appveyor sample
    const probeState = { ...model.state };
    model.state.secureBoot = "off";
    const realBcd = model.bcd.bind(model);
    model.bcd = (argv) => {
      if (argv[0] === "/debug") model.state.secureBoot = "on";
      const r = realBcd(argv);
      model.state.secureBoot = "off";
      return r;
    };
    await expectCode(setupWindows({ run, store, clock: systemClock, config }), "NETDBG-E201");
    expect(model.storeBytes()).toBe(original);
    expect(probeState.secureBoot).toBe("off");
  });

  it("a Hyper-V guest's synthetic NIC (VMBUS) gets no busparams; a PCI segment shows in busparams", async () => {
    const syn = {
      name: "Ethernet",
      interfaceDescription: "Microsoft Hyper-V Network Adapter",
      pnpDeviceId: "VMBUS\\{F8615163-DF3E-46C5-913F-F2D2F965ED0E}\\{A1B2C3D4-0000-0000-0000-000000000001}",
      ndisPhysicalMedium: 14,
      virtual: false,
      status: "Up" as const,
      linkSpeed: "10 Gbps",
      macAddress: "00-15-5D-00-00-01",
    };
    const { model, run, store, config } = rig({ nics: [syn], isVm: true });
    const r = await setupWindows({ run, store, clock: systemClock, config });
    expect(r.report.actions.map((a) => a.id)).not.toContain("bcd.busparams");
    expect(r.plan.warnings.join(" ")).toContain("VMBus");
    expect(parseDbgSettings(model.bcd(["/dbgsettings"]).output).busparams).toBeUndefined();
    expect(r.plan.warnings.join(" ")).toContain("kdnet.exe on the target says whether this one does");
    // kdnet.exe present: its own statement decides what netdbg says about the hypervisor
    const said = async (isVm: boolean) => {
      const g = rig({ nics: [syn], isVm, kdnetPath: "C:\\KDNET\\kdnet.exe" });
      return (
        await setupWindows({ run: g.run, store: g.store, clock: systemClock, config: g.config, check: true })
      ).plan.warnings.join(" ");
    };
    expect(await said(true)).toContain(
      "kdnet.exe (C:\\KDNET\\kdnet.exe) confirms that this hypervisor supports KDNET in guest VMs",
    );
    expect(await said(false)).toMatch(/does not say that this hypervisor supports KDNET in guest VMs/);
  });

  it("a NIC on PCI segment 1 is refused (E225), not given a made-up segment.b.d.f; nothing changes", async () => {
    const seg = rig({ nics: [{ ...defaultState().nics[0]!, pci: { segment: 1, bus: 2, device: 0, function: 1 } }] });
    const before = seg.model.storeBytes();
    const e = await expectCode(
      setupWindows({ run: seg.run, store: seg.store, clock: systemClock, config: seg.config }),
      "NETDBG-E225",
    );
    expect((e as Error).message).toContain("segment 1");
    expect(seg.model.storeBytes()).toBe(before);
    expect((await seg.store.load("win")).entries).toEqual([]);
  });

  it("keeps the debug entry out of the boot menu (displayorder); teardown puts the menu back", async () => {
    const { model, run, store, config } = rig();
    const menu = () => model.bcd(["/enum", "{bootmgr}", "/v"]).output;
    const shown = () => bcdValues(parseBcdEnum(menu())[0]!, "displayorder");
    const before = menu();
    const r = await setupWindows({ run, store, clock: systemClock, config });
    expect(shown().length).toBeGreaterThan(0);
    expect(shown()).not.toContain(r.plan.entryGuid!);
    expect(bcdValues(parseBcdEnum(menu())[0]!, "bootsequence")).toEqual([r.plan.entryGuid!]);
    const journal = await store.load("win");
    await teardownWindows({ target: "win", run, journal, store, clock: systemClock });
    expect(menu()).toBe(before);
  });

  it("hostipv6 compares as an address, not as text: a rerun with another spelling changes nothing", async () => {
    const { run, store, config } = rig();
    await setupWindows({ run, store, clock: systemClock, config: { ...config, hostIp: "2001:DB8:0:0::10" } });
    const again = await setupWindows({ run, store, clock: systemClock, config: { ...config, hostIp: "2001:db8::10" } });
    expect(again.report.actions.filter((a) => a.outcome === "changed").map((a) => [a.id, a.outcome])).toEqual([]);
  });

  it("an IPv6 host address uses hostipv6", async () => {
    const { model, run, store, config } = rig();
    const r = await setupWindows({ run, store, clock: systemClock, config: { ...config, hostIp: "2001:db8::10" } });
    const back = parseDbgSettings(model.bcd(["/dbgsettings"]).output);
    expect(back.hostipv6).toBe("2001:db8::10");
    expect(back.hostip).toBeUndefined();
    expect(r.plan.expected.hostipv6).toBe("2001:db8::10");
  });
});

describe("kdnet.exe as a second opinion", () => {
  const KDNET = "C:\\Program Files (x86)\\Windows Kits\\10\\Debuggers\\x64\\kdnet.exe";
  it("agrees: no warning, and its listing is parsed into the facts", async () => {
    const { run, store, config } = rig({ kdnetPath: KDNET });
    const r = await setupWindows({ run, store, clock: systemClock, config, check: true });
    expect(r.facts.kdnet?.nics.map((n) => [n.busparams, n.name, n.pluggedIn])).toEqual([
      ["0.3.0", "Intel(R) 82574L Gigabit Network Connection", true],
    ]);
    expect(r.plan.warnings).toEqual([]);
  });
  it("is looked for where it usually is: the Windows Kits debuggers of the machine's architecture, then C:\\KDNET", async () => {
    const found = async (over: Partial<WindowsTargetState>) => {
      const { run, store, config } = rig(over);
      return (await setupWindows({ run, store, clock: systemClock, config, check: true })).facts.kdnet?.path;
    };
    expect(await found({ kdnetPath: "C:\\KDNET\\kdnet.exe" })).toBe("C:\\KDNET\\kdnet.exe");
    expect(await found({ kdnetPath: "C:\\Program Files\\Windows Kits\\10\\Debuggers\\x64\\kdnet.exe" })).toBe(
      "C:\\Program Files\\Windows Kits\\10\\Debuggers\\x64\\kdnet.exe",
    );
    const arm = { arch: "ARM64" };
    const os = (a: { arch: string }) => ({ ...defaultState().os, ...a });
    expect(
      await found({ os: os(arm), kdnetPath: "C:\\Program Files (x86)\\Windows Kits\\10\\Debuggers\\arm64\\kdnet.exe" }),
    ).toBe("C:\\Program Files (x86)\\Windows Kits\\10\\Debuggers\\arm64\\kdnet.exe");
    // an x64 kdnet.exe on an ARM64 machine is not the one to run
    expect(await found({ os: os(arm), kdnetPath: KDNET })).toBeUndefined();
    expect(await found({ kdnetPath: "D:\\tools\\kdnet.exe" })).toBeUndefined();
  });
  it("disagrees (a real listing naming another NIC): a warning, not a stop", async () => {
    const { run, store, config } = rig({
      kdnetPath: KDNET,
      kdnetOutput: fixture("kdnet-exe/docs-list-broadcom-plugged-in.txt").replace(/\n/g, "\r\n"),
    });
    const r = await setupWindows({ run, store, clock: systemClock, config, check: true });
    expect(r.plan.warnings.join("\n")).toContain("does not list 'Ethernet' (busparams 0.3.0)");
    expect(r.plan.warnings.join("\n")).toContain("Broadcom NetXtreme Gigabit Ethernet (1.0.0)");
  });
});

describe("refusals before any change", () => {
  const refuse = async (over: Partial<WindowsTargetState>, cfg: Partial<WindowsSetupConfig>, code: string) => {
    const { model, run, store, config } = rig(over);
    const original = model.storeBytes();
    const e = await expectCode(setupWindows({ run, store, clock: systemClock, config: { ...config, ...cfg } }), code);
    expect(model.storeBytes()).toBe(original);
    expect(model.received.filter((x) => x.script !== "whoami" && x.script !== "probe")).toEqual([]);
    return e as Error & { fix: string };
  };
  const base = defaultState();
  const eth = base.nics[0]!;
  it("port outside 49152–65535", async () => {
    await refuse({}, { port: 5364 }, "NETDBG-E207");
  });
  it("wireless NIC chosen", async () => {
    await refuse({}, { nic: "Wi-Fi" }, "NETDBG-E203");
  });
  it("USB NIC chosen", async () => {
    const { pci: _pci, ...noPci } = eth;
    const usb = { ...noPci, name: "USB Ethernet", pnpDeviceId: "USB\\VID_0B95&PID_1790\\000000000002C8" };
    await refuse({ nics: [eth, usb] }, { nic: "USB Ethernet" }, "NETDBG-E204");
  });
  it("NIC not on Microsoft's list (virtio-net)", async () => {
    const virtio = {
      ...eth,
      interfaceDescription: "Red Hat VirtIO Ethernet Adapter",
      pnpDeviceId: "PCI\\VEN_1AF4&DEV_1000&SUBSYS_00011AF4&REV_00\\3&1",
    };
    const e = await refuse({ nics: [virtio] }, { nic: "Ethernet" }, "NETDBG-E202");
    expect(e.message).toContain("1AF4:1000");
  });
  it("NIC supported only from a later build", async () => {
    const vmx = {
      ...eth,
      interfaceDescription: "vmxnet3 Ethernet Adapter",
      pnpDeviceId: "PCI\\VEN_15AD&DEV_07B0&SUBSYS_07B015AD&REV_01\\FF",
    };
    const e = await refuse({ nics: [vmx] }, {}, "NETDBG-E208");
    expect(e.message).toContain("26006");
  });
  it("team member", async () => {
    await refuse({ teams: [{ name: "Team1", members: ["Ethernet"] }] }, { nic: "Ethernet" }, "NETDBG-E205");
  });
  it("vSwitch bound to the NIC, unless --force", async () => {
    const vs = [
      {
        name: "External",
        switchType: "External" as const,
        netAdapterInterfaceDescriptions: [eth.interfaceDescription],
        embeddedTeamingEnabled: false,
      },
    ];
    const e = await refuse({ vswitches: vs }, {}, "NETDBG-E206");
    expect(e.fix).toContain("--force");
    const { model, run, store, config } = rig({ vswitches: vs });
    const r = await setupWindows({ run, store, clock: systemClock, config: { ...config, force: true } });
    expect(r.plan.warnings.join(" ")).toContain("Kernel Debug Network Adapter");
    expect(parseDbgSettings(model.bcd(["/dbgsettings"]).output).busparams).toBe("0.3.0");
  });
  it("--no-kdnic without a second connected NIC", async () => {
    await refuse({ nics: [eth] }, { noKdnic: true }, "NETDBG-E209");
  });
  it("Secure Boot state unknown: a stop, unless --force (then bcdedit decides and netdbg rolls back if it refuses)", async () => {
    await refuse({ secureBoot: "unknown" }, {}, "NETDBG-E217");
    const { run, store, config } = rig({ secureBoot: "unknown" });
    const r = await setupWindows({ run, store, clock: systemClock, config: { ...config, force: true } });
    expect(r.plan.warnings.join(" ")).toContain("Secure Boot state unknown");
  });
  it("a member of a Switch Embedded Teaming switch is a team member", async () => {
    const second = {
      ...eth,
      name: "Ethernet 3",
      interfaceDescription: "Intel(R) 82574L Gigabit Network Connection #2",
      pci: { segment: 0, bus: 0, device: 4, function: 0 },
    };
    const set = [
      {
        name: "SETswitch",
        switchType: "External" as const,
        netAdapterInterfaceDescriptions: [eth.interfaceDescription, second.interfaceDescription],
        embeddedTeamingEnabled: true,
      },
    ];
    const e = await refuse({ nics: [eth, second], vswitches: set }, { nic: "Ethernet" }, "NETDBG-E205");
    expect(e.message).toContain("SETswitch (Switch Embedded Teaming)");
  });
  it("several usable NICs and no --nic: a stop that lists them", async () => {
    const second = { ...eth, name: "Ethernet 3", pci: { segment: 0, bus: 0, device: 4, function: 0 } };
    const e = await refuse({ nics: [eth, second] }, {}, "NETDBG-E208");
    expect(e.fix).toContain("Ethernet (0.3.0), Ethernet 3 (0.4.0)");
  });
  it("unknown NIC name", async () => {
    await refuse({}, { nic: "Ethernet 9" }, "NETDBG-E214");
  });
});

describe("convergence", () => {
  it("changing the port later re-runs only what differs; teardown still ends at the original store", async () => {
    const { model, run, store, config } = rig();
    const original = model.storeBytes();
    await setupWindows({ run, store, clock: systemClock, config });
    const r2 = await setupWindows({
      run,
      store,
      clock: systemClock,
      config: { ...config, port: 50006, stamp: "20261121T070000Z" },
    });
    expect(r2.report.actions.filter((a) => a.outcome === "changed").map((a) => a.id)).toEqual(["bcd.export", "bcd.dbgsettings"]);
    expect(parseDbgSettings(model.bcd(["/dbgsettings"]).output).port).toBe(50006);
    await teardownWindows({ target: "win", run, journal: await store.load("win"), store, clock: systemClock });
    expect(model.storeBytes()).toBe(original);
  });

  it("the connection dies mid-apply and stays down (rollback impossible): teardown later converges from the journal", async () => {
    const { model, store, config } = rig();
    const original = model.storeBytes();
    let down = false;
    const session = new ModelSession(model);
    const exec = session.exec.bind(session);
    session.exec = async (cmd, o) => {
      if (down) throw new Error("the SSH connection was lost");
      return exec(cmd, o);
    };
    const run = sessionRunner(session, "win");
    // the dbgsettings change is made, then the link drops for good
    model.injections.push({ script: "bcdedit", bcdArg: "/dbgsettings", mode: "after" });
    const origExec = model.exec.bind(model);
    model.exec = (line, input) => {
      const r = origExec(line, input);
      if (r.dropped) down = true;
      return r;
    };
    const e = await setupWindows({ run, store, clock: systemClock, config }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isNetdbgError(e) && e.code).toBe("NETDBG-E210");
    expect((e as Error & { fix: string }).fix).toContain("netdbg teardown win");
    expect(model.storeBytes()).not.toBe(original);
    down = false;
    await teardownWindows({ target: "win", run, journal: await store.load("win"), store, clock: systemClock });
    expect(model.storeBytes()).toBe(original);
    expect(model.state.bitlocker[0]!.protectionStatus).toBe("On");
  });
});
