/**
 * The whole setup → teardown journey through the CLI glue, with real parts: the Windows target model and the
 * fake Linux target behind the in-process ssh2 server over real loopback SSH, and this host's firewall played
 * by nftables inside a network namespace of our own (inet filter input, policy drop). The firewall commands
 * netdbg runs are real nft commands entered into that namespace; a real UDP datagram from the target
 * namespace shows whether the rule works.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { setupFleet } from "../../src/cli/commands/setup.js";
import { parseSetupRequest } from "../../src/cli/options.js";
import { type Context, createContext } from "../../src/cli/context.js";
import {
  setupFromFlags as linuxSetup,
  teardownFromFlags as teardownTarget,
  setupFromFlags as windowsSetup,
} from "../helpers/setup-flags.js";
import type { HostFirewallPort } from "../../src/journey/host-firewall.js";
import { isNetdbgError } from "../../src/core/error.js";
import type { Target } from "../../src/core/inventory.js";
import type { Journal } from "../../src/core/journal.js";
import { HostFirewallStep } from "../../src/host/firewall/index.js";
import { connectSsh } from "../../src/io/ssh.js";
import { LinuxTargetModel } from "../../src/peers/linux-target.js";
import { NetnsPair, requireTool } from "../fakes/netns.js";
import { type SshPeer, startSshPeer } from "../../src/peers/ssh-server.js";
import { defaultState, WindowsTargetModel } from "../../src/peers/windows-target/model.js";
import { KEY } from "../helpers/windows-config.js";

const COMPAT = new URL("../../assets/kgdboe-compat", import.meta.url).pathname;
const WINDOW = { windowMs: 800 };

const pair = new NetnsPair("jny", 249);
let srv: SshPeer;
let dir: string;
let model: WindowsTargetModel;
let linuxTarget: LinuxTargetModel;
let os: "windows" | "linux" = "windows";

/** This host's firewall = nftables in the pair's host namespace; `elevated` says whether we may change it. */
function firewall(elevated = true): HostFirewallPort {
  return {
    request: async (_t, port) => ({ address: pair.targetIp, port, interface: pair.hostIf }),
    step: (req) => ({ step: new HostFirewallStep(req, { platform: "linux", runner: pair.hostRunner(), elevated }), elevated }),
  };
}

const ruleset = () => pair.inHost("nft", "list", "ruleset");

beforeAll(async () => {
  requireTool("nft", "nftables");
  await pair.create();
  pair.inHostWithInput(
    "table inet filter {\n chain input {\n  type filter hook input priority 0; policy drop;\n }\n}\n",
    "nft",
    "-f",
    "-",
  );
  dir = mkdtempSync(join(tmpdir(), "nd-journey-"));
  srv = await startSshPeer({
    exec: async ({ command, stdin }) => {
      if (os === "windows") {
        const r = model.exec(command, stdin === "" ? undefined : stdin);
        return { stdout: r.stdout, stderr: r.stderr, code: r.dropped ? 255 : r.exitCode };
      }
      for (const [p, f] of srv.files) linuxTarget.state.files.set(p, f.data.toString("latin1"));
      const r = await linuxTarget.exec(command);
      for (const p of [...srv.files.keys()]) if (!linuxTarget.state.files.has(p)) srv.files.delete(p);
      return { stdout: r.stdout, stderr: r.stderr, code: r.exitCode };
    },
  });
}, 60_000);
afterAll(async () => {
  await srv?.stop();
  pair.destroy();
  rmSync(dir, { recursive: true, force: true });
});

let out: string[];
beforeEach(() => {
  os = "windows";
  model = new WindowsTargetModel(defaultState());
  out = [];
  vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
    out.push(String(s));
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
});
afterEach(() => vi.restoreAllMocks());

const win = (port: number): Target => ({
  name: "win",
  os: "windows",
  address: pair.targetIp,
  port,
  transport: { hostIp: pair.hostIp },
});

async function rig(json: boolean, showSecrets = false) {
  const stateDir = mkdtempSync(join(dir, "state-"));
  const ctx: Context = createContext({ stateDir, json, color: false, showSecrets });
  await ctx.secrets.set("win", KEY);
  return { ctx, stateDir, journalFile: join(stateDir, "state", "journals", "win.json") };
}

const deps = {
  openSession: async () => connectSsh(srv.connectOptions(dir)),
  renderer: "silent" as const,
  now: () => new Date("2026-11-21T06:00:00Z"),
};

/** teardown as the command runs it (journal check, the OS half, then the host firewall) with our seams. */
const teardown = (ctx: Context, t: Target, opts: Record<string, unknown>, fw = firewall()) =>
  teardownTarget(ctx, t, opts, { ...deps, firewall: fw });

const take = () => {
  const text = out.join("");
  out.length = 0;
  return text;
};

describe("setup → teardown of a Windows target, host firewall included", () => {
  it("--json: one object; the nft rule is real; a re-run is unchanged; teardown --check changes nothing; teardown undoes all", async () => {
    const port = 50600;
    const { ctx, journalFile } = await rig(true);
    const original = model.storeBytes();
    expect(await pair.probe(port, WINDOW), "the host firewall drops the datagram before setup").toBe(false);

    await windowsSetup(ctx, win(port), { connect: false }, { ...deps, firewall: firewall() });
    const obj = JSON.parse(take());
    expect(obj).toMatchObject({
      target: "win",
      os: "windows",
      check: false,
      changed: true,
      hostIp: pair.hostIp,
      port,
      key: "<redacted:ee0c0075>",
      hostFirewall: { frontEnds: ["nftables"], request: { address: pair.targetIp, port } },
      handoff: { windbg: `windbg -k net:port=${port},key=<redacted:ee0c0075>`, connect: false },
    });
    const host = obj.actions.filter((a: { where: string }) => a.where === "host");
    expect(host).toHaveLength(1);
    expect(host[0]).toMatchObject({ outcome: "changed", command: expect.stringContaining("nft insert rule inet filter input") });
    expect(host[0].undo).toMatch(/^nft delete rule inet filter input handle \d+$/);
    expect(obj.actions.filter((a: { where: string }) => a.where === "target").length).toBeGreaterThan(4);
    expect(obj.actions.every((a: { outcome: string }) => a.outcome === "changed")).toBe(true);
    expect(JSON.stringify(obj)).not.toContain(KEY);

    // the rule is real: visible in the ruleset, and the target's datagram now arrives
    expect(ruleset()).toMatch(
      new RegExp(`ip saddr ${pair.targetIp.replace(/\./g, "\\.")} udp dport ${port} .*comment "netdbg-udp-${port}"`),
    );
    expect(await pair.probe(port, WINDOW)).toBe(true);
    // journaled in the target's journal as a host entry with its exact undo
    const journal = JSON.parse(readFileSync(journalFile, "utf8")) as Journal;
    expect(journal.entries[0]).toMatchObject({ where: "host", step: "host-firewall", status: "applied", undo: host[0].undo });
    expect(journal.facts.journey).toEqual({ os: "windows", address: pair.targetIp, port, hostIp: pair.hostIp });

    // a re-run resumes from the journal and changes nothing
    await windowsSetup(ctx, win(port), { connect: false }, { ...deps, firewall: firewall() });
    const again = JSON.parse(take());
    expect(again.changed).toBe(false);
    expect(again.actions.map((a: { outcome: string }) => a.outcome).every((o: string) => o === "unchanged")).toBe(true);
    expect(ruleset().match(/netdbg-udp-/g)).toHaveLength(1);

    // teardown --check: the whole undo plan, host included, and nothing changes
    const afterSetup = model.storeBytes();
    const journalText = readFileSync(journalFile, "utf8");
    await teardown(ctx, win(port), { check: true });
    const plan = JSON.parse(take());
    expect(plan.check).toBe(true);
    expect(plan.actions.at(-1)).toMatchObject({ where: "host", outcome: "skipped", command: host[0].undo });
    expect(plan.actions.filter((a: { where: string }) => a.where === "target").length).toBeGreaterThan(4);
    expect(model.storeBytes()).toBe(afterSetup);
    expect(readFileSync(journalFile, "utf8")).toBe(journalText);
    expect(ruleset()).toContain(`netdbg-udp-${port}`);

    // teardown: target undone byte for byte, the host rule gone, the journal removed
    await teardown(ctx, win(port), {});
    const done = JSON.parse(take());
    expect(done.changed).toBe(true);
    expect(done.actions.at(-1)).toMatchObject({ where: "host", outcome: "changed" });
    expect(model.storeBytes()).toBe(original);
    expect(ruleset()).not.toContain(`netdbg-udp-${port}`);
    expect(await pair.probe(port, WINDOW)).toBe(false);
    expect(existsSync(journalFile)).toBe(false);
  }, 90_000);

  it("--no-connect prints the exact windbg line (key redacted unless --show-secrets, and how to show it)", async () => {
    const port = 50601;
    const { ctx } = await rig(false);
    await windowsSetup(ctx, win(port), { connect: false }, { ...deps, firewall: firewall() });
    const text = take();
    expect(text).toContain("nftables drops inbound traffic");
    expect(text).toMatch(/changed: nft insert rule inet filter input .* \(host\)/);
    expect(text).toContain("must boot the debug entry before a debugger can attach");
    expect(text).toContain(`   or WinDbg:  windbg -k net:port=${port},key=<redacted:ee0c0075>\n`);
    expect(text).toContain("'netdbg keys show win --show-secrets'");
    expect(text).not.toContain(KEY);
    await teardown(ctx, win(port), {});
    model = new WindowsTargetModel(defaultState());
    const shown = await rig(false, true);
    await windowsSetup(shown.ctx, win(port), { connect: false }, { ...deps, firewall: firewall() });
    expect(take()).toContain(`   or WinDbg:  windbg -k net:port=${port},key=${KEY}\n`);
    await teardown(shown.ctx, win(port), {});
    expect(ruleset()).not.toContain(`netdbg-udp-${port}`);
  }, 90_000);

  it("a failure mid-apply rolls back the target AND the host firewall entry", async () => {
    const port = 50602;
    const { ctx, journalFile } = await rig(true);
    const original = model.storeBytes();
    model.injections.push({ script: "bcdedit", bcdArg: "/dbgsettings", mode: "before" });
    const err = await windowsSetup(ctx, win(port), {}, { ...deps, firewall: firewall() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(model.injections).toHaveLength(0); // the injection fired
    expect(model.storeBytes()).toBe(original);
    expect(ruleset()).not.toContain(`netdbg-udp-${port}`);
    expect(await pair.probe(port, WINDOW)).toBe(false);
    const journal = JSON.parse(readFileSync(journalFile, "utf8")) as Journal;
    const host = journal.entries.filter((e) => e.where === "host");
    expect(host.map((e) => e.status)).toEqual(["undone"]);
  }, 90_000);

  it("without root: a firewall that needs a change stops setup before any change (E740 names the commands)", async () => {
    const port = 50603;
    const { ctx } = await rig(true);
    const original = model.storeBytes();
    const err = await windowsSetup(ctx, win(port), {}, { ...deps, firewall: firewall(false) }).catch((e: unknown) => e);
    expect(isNetdbgError(err) && err.code).toBe("NETDBG-E740");
    expect((err as Error & { fix: string }).fix).toMatch(/sudo netdbg setup win.*nft insert rule inet filter input/);
    expect(model.storeBytes()).toBe(original);
    expect(model.received).toHaveLength(0); // the target was never touched
    expect(ruleset()).not.toContain(`netdbg-udp-${port}`);
  }, 60_000);

  it("without root and unable even to read the firewall: setup says so, names the command, and goes on", async () => {
    const port = 50606;
    const { ctx } = await rig(true);
    // every firewall command runs as nobody inside the host namespace: nft and iptables cannot read the rules
    const nobody: HostFirewallPort = {
      request: async (_t, p) => ({ address: pair.targetIp, port: p, interface: pair.hostIf }),
      step: (req) => {
        const inner = pair.hostRunner();
        const runner = {
          run: (file: string, args: readonly string[], o?: Parameters<typeof inner.run>[2]) =>
            inner.run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", file, ...args], o),
        };
        return { step: new HostFirewallStep(req, { platform: "linux", runner, elevated: false }), elevated: false };
      },
    };
    await windowsSetup(ctx, win(port), {}, { ...deps, firewall: nobody });
    const obj = JSON.parse(take());
    expect(obj.changed).toBe(true);
    expect(obj.hostFirewall.summary).toMatch(/needs root.*sudo netdbg host firewall open win/);
    expect(obj.actions.filter((a: { where: string }) => a.where === "host")).toEqual([]);
    expect(ruleset()).not.toContain(`netdbg-udp-${port}`);
    await teardown(ctx, win(port), {});
    take();
  }, 60_000);

  it("--check prints the host firewall commands with the target's and changes nothing", async () => {
    const port = 50604;
    const { ctx } = await rig(false);
    const original = model.storeBytes();
    await windowsSetup(ctx, win(port), { check: true }, { ...deps, firewall: firewall() });
    const text = take();
    expect(text).toMatch(
      new RegExp(
        `would run: nft insert rule inet filter input ip saddr ${pair.targetIp.replace(/\./g, "\\.")} udp dport ${port} .* \\(host\\)`,
      ),
    );
    expect(text).toContain("would run: bcdedit.exe /dbgsettings net hostip:");
    expect(text).toContain("Nothing was changed (--check).");
    expect(ruleset()).not.toContain(`netdbg-udp-${port}`);
    expect(model.storeBytes()).toBe(original);
  }, 60_000);

  it("teardown refuses (E741) when the inventory's address no longer matches the journal; a rule removed by hand is noted", async () => {
    const port = 50605;
    const { ctx } = await rig(true);
    const original = model.storeBytes();
    await windowsSetup(ctx, win(port), {}, { ...deps, firewall: firewall() });
    take();
    const moved = { ...win(port), address: "10.231.249.77" };
    const err = await teardown(ctx, moved, {}).catch((e: unknown) => e);
    expect(isNetdbgError(err) && err.code).toBe("NETDBG-E741");
    expect((err as Error & { fix: string }).fix).toContain(`--address ${pair.targetIp}`);
    expect(ruleset()).toContain(`netdbg-udp-${port}`);
    // someone removes the rule by hand: teardown notes it and goes on
    const handle = /netdbg-udp-\d+" # handle (\d+)/.exec(pair.inHost("nft", "-a", "list", "ruleset"))![1]!;
    pair.inHost("nft", "delete", "rule", "inet", "filter", "input", "handle", handle);
    await teardown(ctx, win(port), {});
    const done = JSON.parse(take());
    expect(done.notes[0]).toMatch(/already gone/);
    expect(done.actions.at(-1)).toMatchObject({ where: "host", outcome: "unchanged" });
    expect(model.storeBytes()).toBe(original);
  }, 90_000);
});

describe("setup → teardown of a Linux target (fake target over real SSH), host firewall included", () => {
  it("--json has the same shape (gdb hand-off, no key); teardown closes the rule", async () => {
    os = "linux";
    linuxTarget = new LinuxTargetModel();
    srv.files.clear();
    const stateDir = mkdtempSync(join(dir, "state-"));
    const port = 50610;
    const lab: Target = { name: "lab", os: "linux", address: pair.targetIp, port };
    const open = async () => connectSsh(srv.connectOptions(dir));
    const ctx = createContext({ stateDir, json: true });
    await linuxSetup(ctx, lab, { kgdboeSource: COMPAT, connect: false }, { openSession: open, firewall: firewall() });
    const obj = JSON.parse(take());
    expect(obj).toMatchObject({
      target: "lab",
      os: "linux",
      check: false,
      changed: true,
      port,
      key: null,
      hostFirewall: { frontEnds: ["nftables"] },
      handoff: { gdb: `gdb vmlinux -ex 'target remote udp:${pair.targetIp}:31337'`, connect: false },
    });
    expect(obj.actions.map((a: { where: string }) => a.where)).toEqual(["host", "target", "target", "target", "target"]);
    expect(ruleset()).toContain(`netdbg-udp-${port}`);
    expect(linuxTarget.state.loaded).not.toBeNull();

    await linuxSetup(ctx, lab, { kgdboeSource: COMPAT }, { openSession: open, firewall: firewall() });
    expect(JSON.parse(take()).actions.map((a: { outcome: string }) => a.outcome)).toEqual(Array(5).fill("unchanged"));

    // the default hand-off attaches (connect via the RSP engine; here a recorder stands in for it) — on a terminal
    const attached: string[] = [];
    await linuxSetup(
      createContext({ stateDir }),
      lab,
      { kgdboeSource: COMPAT, connect: true },
      { openSession: open, firewall: firewall(), connect: async (_c, t) => void attached.push(t.name) },
    );
    expect(attached).toEqual([]); // no terminal (a script, CI): the lines, and the kernel is not stopped
    expect(take()).toContain("Then attach:  netdbg connect lab");
    await linuxSetup(
      { ...createContext({ stateDir }), isTTY: true },
      lab,
      { kgdboeSource: COMPAT, connect: true },
      {
        openSession: open,
        firewall: firewall(),
        connect: async (_c, t) => void attached.push(t.name),
      },
    );
    expect(attached).toEqual(["lab"]);
    expect(take()).toContain("Attaching: netdbg connect lab");

    await teardownTarget(ctx, lab, {}, { firewall: firewall(), openSession: open });
    const done = JSON.parse(take());
    expect(done.actions.map((a: { where: string }) => a.where)).toEqual(["target", "target", "target", "target", "host"]);
    expect(linuxTarget.state.loaded).toBeNull();
    expect(ruleset()).not.toContain(`netdbg-udp-${port}`);
  }, 90_000);
});

describe("a fleet of Windows targets over real SSH, host firewall included", () => {
  it("one failing target never stops the others; unique ports and keys; one summary table; the failed one leaves nothing", async () => {
    const models = new Map(["fa", "fb", "fc"].map((n) => [n, new WindowsTargetModel(defaultState())]));
    models.get("fb")!.injections.push({ script: "bcdedit", bcdArg: "/dbgsettings", mode: "before" });
    const fleetSrv = await startSshPeer({
      exec: ({ command, stdin, user }) => {
        const r = models.get(user)!.exec(command, stdin === "" ? undefined : stdin);
        return { stdout: r.stdout, stderr: r.stderr, code: r.dropped ? 255 : r.exitCode };
      },
    });
    try {
      const stateDir = mkdtempSync(join(dir, "state-"));
      const ctx = createContext({ stateDir, json: false, color: false });
      const targets: Target[] = [...models.keys()].map((name) => ({
        name,
        os: "windows",
        address: pair.targetIp,
        transport: { hostIp: pair.hostIp },
      }));
      await ctx.inventory.update((inv) => {
        inv.targets.push(...targets);
      });
      const originals = new Map([...models].map(([n, m]) => [n, m.storeBytes()]));
      const outcomes = await setupFleet(ctx, targets, parseSetupRequest({ concurrency: "3" }), {
        ...deps,
        firewall: firewall(),
        openSession: async (t) => connectSsh(fleetSrv.connectOptions(dir, t.name)),
      });
      expect(outcomes.map((o) => [o.target, o.ok])).toEqual([
        ["fa", true],
        ["fb", false],
        ["fc", true],
      ]);
      expect(process.exitCode).toBe(3);
      process.exitCode = 0;
      const inv = await ctx.inventory.load();
      const ports = inv.targets.map((t) => t.port);
      expect(new Set(ports).size).toBe(3);
      const keys = await Promise.all(["fa", "fb", "fc"].map((n) => ctx.secrets.get(n)));
      expect(new Set(keys).size).toBe(3);
      const text = take();
      expect(text).toMatch(
        /fa[\s│]+windows[\s│]+\d+[\s│]+<redacted:[0-9a-f]{8}>[\s│]+changed \(\d+\)[\s│]+windbg -k net:port=\d+,key=<redacted:[0-9a-f]{8}>/,
      );
      expect(text).toMatch(/fb[\s│]+windows[\s│]+\d+[\s│]+FAILED[\s│]+.*\[NETDBG-E212\]/);
      expect(text).not.toContain(keys[0]!);
      // the failed target is rolled back, host firewall included; the others' rules stand
      expect(models.get("fb")!.storeBytes()).toBe(originals.get("fb"));
      const rules = ruleset();
      expect(rules).toContain(`netdbg-udp-${ports[0]}`);
      expect(rules).not.toContain(`netdbg-udp-${ports[1]}`);
      expect(rules).toContain(`netdbg-udp-${ports[2]}`);
      for (const t of inv.targets.filter((x) => x.name !== "fb")) {
        await teardownTarget(
          ctx,
          t,
          {},
          { ...deps, firewall: firewall(), openSession: async (tt) => connectSsh(fleetSrv.connectOptions(dir, tt.name)) },
        );
        expect(models.get(t.name)!.storeBytes()).toBe(originals.get(t.name));
      }
      expect(ruleset()).not.toContain("netdbg-udp-");
    } finally {
      await fleetSrv.stop();
    }
  }, 120_000);
});
