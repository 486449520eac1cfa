/**
 * The CLI (src/cli/setup-run.ts, the one sequence with the Windows driver) against the target model: --check prints every command (key
 * redacted), setup + teardown through the file journal, --json's final object, the host-IP / port stops.
 * The host firewall step is left out (--no-host-firewall): test/cli/journey.test.ts covers it in a namespace, so
 * these tests never touch this machine's firewall.
 */
import { readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { isNetdbgError, netdbgError } from "../../../src/core/error.js";
import type { Target } from "../../../src/core/inventory.js";
import type { Context } from "../../../src/cli/context.js";
import { setupFromFlags as windowsSetup, teardownFromFlags as windowsTeardown } from "../../helpers/setup-flags.js";
import { parseDbgSettings } from "../../../src/targets/windows/index.js";
import { windowsCliRigs } from "../../helpers/windows-cli.js";
import { KEY } from "../../helpers/windows-config.js";

afterEach(() => vi.restoreAllMocks());

const target: Target = { name: "win", os: "windows", address: "192.0.2.50", port: 50005, transport: { hostIp: "192.0.2.10" } };

const cli = windowsCliRigs();
/** The Windows CLI rig (test/helpers/windows-cli.ts): `--json` or not, the key stored or not. */
const rig = (json = false, withKey = true) => cli({ json, withKey });

describe("netdbg setup / teardown for a windows target (CLI glue)", () => {
  it("--check prints every command byte for byte (key redacted) with its undo, and changes nothing", async () => {
    const { ctx, model, out, deps } = await rig();
    const original = model.storeBytes();
    await windowsSetup(ctx, target, { hostFirewall: false, check: true, kdnic: false }, deps);
    const text = out.join("");
    const lines = text.trimEnd().split("\n");
    expect(lines.filter((l) => l.startsWith("would run: "))).toEqual([
      "would run: templates/windows/bcd-export.ps1 -Path 'C:\\ProgramData\\netdbg\\bcd-20261121T060000Z.bak'",
      "would run: bcdedit.exe /copy '{current}' /d 'Windows 11 [netdbg]'",
      "would run: bcdedit.exe /displayorder '{netdbg-entry}' /remove",
      "would run: bcdedit.exe /debug '{netdbg-entry}' on",
      "would run: bcdedit.exe /dbgsettings net hostip:192.0.2.10 port:50005 key:<redacted:ee0c0075>",
      "would run: bcdedit.exe /set '{dbgsettings}' busparams 0.3.0",
      "would run: bcdedit.exe /set '{netdbg-entry}' loadoptions NO_KDNIC",
      "would run: templates/windows/bitlocker.ps1 -MountPoint 'C:' -Operation 'suspend' -RebootCount 2",
      "would run: bcdedit.exe /bootsequence '{netdbg-entry}'",
    ]);
    expect(lines.filter((l) => l.startsWith("    undo: "))).toHaveLength(8);
    expect(text).not.toContain(KEY);
    expect(text).toContain("Nothing was changed (--check).");
    expect(model.storeBytes()).toBe(original);
  });

  it("setup then teardown through the file journal; --json prints one object", async () => {
    const { dir, ctx, model, out, deps } = await rig(true);
    const original = model.storeBytes();
    await windowsSetup(ctx, target, { hostFirewall: false }, deps);
    const obj = JSON.parse(out.join(""));
    expect(obj).toMatchObject({
      target: "win",
      os: "windows",
      check: false,
      changed: true,
      nic: { name: "Ethernet", busparams: "0.3.0" },
    });
    expect(obj.expected).toEqual({
      debugtype: "NET",
      hostip: "192.0.2.10",
      port: 50005,
      key: "<redacted:ee0c0075>",
      busparams: "0.3.0",
    });
    expect(obj.actions.map((a: { outcome: string }) => a.outcome).every((o: string) => o === "changed")).toBe(true);
    expect(obj.debugger).toBe("windbg -k net:port=50005,key=<redacted:ee0c0075>");
    expect(JSON.stringify(obj)).not.toContain(KEY);
    expect(parseDbgSettings(model.bcd(["/dbgsettings"]).output).key).toBe(KEY);
    const journalFile = join(dir, "state", "journals", "win.json");
    expect(readFileSync(journalFile, "utf8")).not.toContain(KEY);
    out.length = 0;
    await windowsTeardown(ctx, target, {}, deps);
    expect(model.storeBytes()).toBe(original);
    expect(JSON.parse(out.join(""))).toMatchObject({ target: "win", check: false, changed: true });
    expect(readdirSync(join(dir, "state", "journals"))).toEqual([]);
    out.length = 0;
    // no journal left: teardown says which exports it could restore instead
    const e = await windowsTeardown(ctx, target, {}, deps).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isNetdbgError(e) && e.code).toBe("NETDBG-E216");
    expect((e as Error & { fix: string }).fix).toContain("C:\\ProgramData\\netdbg\\bcd-20261121T060000Z.bak");
  });

  it("teardown --restore-export imports the exported store when the journal is lost", async () => {
    const { ctx, model, deps, dir } = await rig();
    const original = model.storeBytes();
    await windowsSetup(ctx, target, { hostFirewall: false }, deps);
    rmSync(join(dir, "state", "journals"), { recursive: true });
    await windowsTeardown(ctx, target, { restoreExport: "C:\\ProgramData\\netdbg\\bcd-20261121T060000Z.bak" }, deps);
    expect(model.storeBytes()).toBe(original);
  });

  it("--reboot restarts into the debug entry and reports it in --json", async () => {
    const { ctx, model, out, deps } = await rig(true);
    let t = 0;
    const clock = { now: () => new Date(t), sleep: async (ms: number) => void (t += ms) };
    // no KDNET peer here (test/cli/windows/reboot-poke.test.ts has one): the port counts as taken, SSH only
    const taken = async () => {
      throw netdbgError("E506", { port: 50005, address: "0.0.0.0", reason: "EADDRINUSE" });
    };
    await windowsSetup(ctx, target, { hostFirewall: false, reboot: true }, { ...deps, clock, openKdnetPort: taken });
    const obj = JSON.parse(out.join(""));
    expect(obj.reboot).toEqual({ bootedEntry: obj.entry, debugEntry: true, debug: true, poke: null, ssh: true });
    expect(model.state.boots).toBe(1);
  });

  it("generates and stores a key when none is stored", async () => {
    const { ctx, model, deps } = await rig(false, false);
    await windowsSetup(ctx, target, { hostFirewall: false }, deps);
    const key = await ctx.secrets.get("win");
    expect(key).toMatch(/^[0-9a-z]+\.[0-9a-z]+\.[0-9a-z]+\.[0-9a-z]+$/);
    expect(parseDbgSettings(model.bcd(["/dbgsettings"]).output).key).toBe(key);
  });

  it("stops before connecting without a host IP (E215) or with a bad --port; a missing port is allocated", async () => {
    const { ctx, deps } = await rig();
    const opened = vi.fn(deps.openSession);
    const noIp: Target = { ...target, transport: {} };
    const noRoute = async () => undefined;
    await expect(
      windowsSetup(ctx, noIp, { hostFirewall: false }, { ...deps, openSession: opened, discoverHostIp: noRoute }),
    ).rejects.toMatchObject({
      code: "NETDBG-E215",
    });
    // the one port parser (src/core/udp-port.ts): the same code and option as 'netdbg setup --port 5364'
    await expect(
      windowsSetup(ctx, target, { hostFirewall: false, port: "5364" }, { ...deps, openSession: opened }),
    ).rejects.toMatchObject({
      code: "NETDBG-E003",
      message: expect.stringContaining("--port"),
    });
    expect(opened).not.toHaveBeenCalled();
    // the one sequence's port step: a target without a port gets the first free one of the default range
    const { port: _p, ...noPort } = target;
    const r = await windowsSetup(ctx, noPort, { hostFirewall: false, check: true }, deps);
    expect(r.port).toBeGreaterThanOrEqual(50000);
    expect(r.port).toBeLessThanOrEqual(50039);
  });

  it("a host-IP discoverer, when wired, fills in the address (flag and inventory still win)", async () => {
    const { ctx, model, deps } = await rig();
    const noIp: Target = { ...target, transport: {} };
    const discoverHostIp = async (_c: Context, t: Target, port: number) =>
      t.address === "192.0.2.50" && port === 50005 ? "192.0.2.77" : undefined;
    await windowsSetup(ctx, noIp, { hostFirewall: false }, { ...deps, discoverHostIp });
    expect(parseDbgSettings(model.bcd(["/dbgsettings"]).output).hostip).toBe("192.0.2.77");
    await windowsSetup(ctx, noIp, { hostFirewall: false, hostIp: "192.0.2.10" }, { ...deps, discoverHostIp });
    expect(parseDbgSettings(model.bcd(["/dbgsettings"]).output).hostip).toBe("192.0.2.10");
  });
});
