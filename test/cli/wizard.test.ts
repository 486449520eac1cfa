/**
 * The setup wizard through the prompts module's seam (a scripted Prompter), against the Windows target model
 * and the fake Linux target over real loopback SSH: it asks only what the flags do not say, detects the OS over
 * SSH, lists the target's NICs with their verdicts, suggests a free port, and never asks without a TTY.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createContext } from "../../src/cli/context.js";
import { createPrompter, type Prompter } from "../../src/cli/prompts.js";
import { type OptionSource, runWizard } from "../../src/cli/wizard.js";
import { isNetdbgError } from "../../src/core/error.js";
import { connectSsh } from "../../src/io/ssh.js";
import { LinuxTargetModel } from "../../src/peers/linux-target.js";
import { type SshPeer, startSshPeer } from "../../src/peers/ssh-server.js";
import { defaultState, WindowsTargetModel } from "../../src/peers/windows-target/model.js";

const DEFAULT = Symbol("accept the default");

interface Asked {
  flag: string;
  message: string;
  choices?: string[];
  default?: unknown;
}

/** A Prompter that answers from a table keyed by flag, records every question, and fails on one it has no answer for. */
function scripted(answers: Record<string, unknown>): Prompter & { asked: Asked[] } {
  const asked: Asked[] = [];
  const answer = (q: Asked) => {
    asked.push(q);
    if (!(q.flag in answers)) throw new Error(`unexpected question for --${q.flag}: ${q.message}`);
    const a = answers[q.flag];
    return a === DEFAULT ? q.default : a;
  };
  return {
    interactive: true,
    asked,
    async input(q) {
      const v = answer(q) as string;
      const ok = q.validate?.(v);
      if (ok !== undefined && ok !== true) throw new Error(`answer '${v}' for --${q.flag} rejected: ${ok}`);
      return v;
    },
    async select(q) {
      return answer({ ...q, choices: q.choices.map((c) => c.name ?? c.value) }) as never;
    },
    async confirm(q) {
      return answer(q) as boolean;
    },
    async password(q) {
      return answer(q) as string;
    },
  };
}

const none: OptionSource = () => undefined;
let dir: string;
let win: SshPeer;
let lin: SshPeer;
let linux: LinuxTargetModel;
const model = new WindowsTargetModel(defaultState());

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "nd-wizard-"));
  win = await startSshPeer({
    exec: ({ command, stdin }) => {
      const r = model.exec(command, stdin === "" ? undefined : stdin);
      return { stdout: r.stdout, stderr: r.stderr, code: r.exitCode };
    },
  });
  linux = new LinuxTargetModel();
  lin = await startSshPeer({
    exec: async ({ command }) => {
      if (command === "uname -s") return { stdout: "Linux\n", code: 0 };
      const r = await linux.exec(command);
      return { stdout: r.stdout, stderr: r.stderr, code: r.exitCode };
    },
  });
});
afterAll(async () => {
  await win.stop();
  await lin.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("netdbg setup wizard", () => {
  it("a new Windows target: OS detected over SSH (not asked), NICs listed with verdicts, a free port suggested", async () => {
    const ctx = createContext({ stateDir: mkdtempSync(join(dir, "s-")) });
    const ask = scripted({
      target: "lab-win",
      address: "192.0.2.60",
      "ssh-user": "admin",
      "identity-file": "",
      port: DEFAULT,
      nic: "Ethernet",
      "no-kdnic": true,
      reboot: false,
    });
    const { target, opts } = await runWizard(ctx, ask, {}, none, {
      openSession: async () => connectSsh({ ...win.connectOptions(dir, "admin"), posixShell: false }),
      isFree: async (p) => p !== 50000, // 50000 is bound by something else here: 50001 is suggested
    });
    expect(ask.asked.map((q) => q.flag)).toEqual([
      "target",
      "address",
      "ssh-user",
      "identity-file",
      "port",
      "nic",
      "no-kdnic",
      "reboot",
    ]);
    expect(ask.asked.find((q) => q.flag === "port")?.default).toBe("50001");
    const nic = ask.asked.find((q) => q.flag === "nic")!;
    expect(nic.default).toBe("Ethernet");
    expect(nic.choices?.some((c) => /^Ethernet — .*\(PCI 0\.3\.0\): supported/.test(c))).toBe(true);
    expect(nic.choices!.length).toBe(model.state.nics.length);
    expect(target).toMatchObject({ name: "lab-win", os: "windows", address: "192.0.2.60", port: 50001, ssh: { user: "admin" } });
    expect(await ctx.inventory.get("lab-win")).toMatchObject({ os: "windows", port: 50001 });
    expect(opts).toMatchObject({ nic: "Ethernet", kdnic: false, reboot: false });
  });

  it("flags answer their questions; an existing target with a stored key is asked reuse-or-new", async () => {
    const ctx = createContext({ stateDir: mkdtempSync(join(dir, "s-")) });
    await ctx.inventory.update((i) => {
      i.targets.push({ name: "w", os: "windows", address: "192.0.2.61", port: 50010 });
    });
    await ctx.secrets.set("w", "2steg4fzbj2sz.23418vzkd4ko3.1g34ou07z4pev.1sp3yo9yz874p");
    const ask = scripted({ target: "w", key: "new" });
    const given: OptionSource = (f) => (["nic", "kdnic", "reboot"].includes(f) ? "cli" : "default");
    const { opts } = await runWizard(ctx, ask, { nic: "Ethernet", kdnic: true, reboot: true }, given, {
      openSession: async () => {
        throw new Error("must not connect: --nic says which NIC");
      },
    });
    expect(ask.asked.map((q) => q.flag)).toEqual(["target", "key"]);
    expect(opts).toMatchObject({ nic: "Ethernet", kdnic: true, reboot: true });
    expect(await ctx.secrets.get("w")).not.toBe("2steg4fzbj2sz.23418vzkd4ko3.1g34ou07z4pev.1sp3yo9yz874p");
  });

  it("a new Linux target: detected as Linux, NIC verdicts from the target's own list, kgdboe source and persist asked", async () => {
    const ctx = createContext({ stateDir: mkdtempSync(join(dir, "s-")) });
    const ask = scripted({
      target: "lab-lin",
      address: "192.0.2.70",
      "ssh-user": "root",
      "identity-file": "",
      port: "50020",
      nic: DEFAULT,
      "kgdboe-source": "/srv/kgdboe",
      persist: true,
    });
    const { target, opts } = await runWizard(ctx, ask, {}, none, {
      openSession: async () => connectSsh({ ...lin.connectOptions(dir, "root"), posixShell: true }),
      isFree: async () => true,
    });
    expect(ask.asked.map((q) => q.flag)).not.toContain("os");
    const nic = ask.asked.find((q) => q.flag === "nic")!;
    expect(nic.choices).toEqual(["eth0 (e1000, 10.0.2.15): usable"]);
    expect(target).toMatchObject({ name: "lab-lin", os: "linux", port: 50020 });
    expect(opts).toMatchObject({ nic: "eth0", kgdboeSource: "/srv/kgdboe", persist: true });
  });

  it("stops asking once SSH to the target has failed, says why, and records nothing", async () => {
    const down = await startSshPeer({ exec: () => ({ stdout: "", code: 0 }) });
    const closed = down.connectOptions(dir, "admin");
    await down.stop();
    const warnings: string[] = [];
    const ctx = createContext({ stateDir: mkdtempSync(join(dir, "s-")) });
    ctx.log.warn = (m: string) => warnings.push(m);
    const ask = scripted({ target: "gone", address: "192.0.2.61", "ssh-user": "admin", "identity-file": "" });
    const e = await runWizard(ctx, ask, {}, none, { openSession: async () => connectSsh(closed) }).catch((x: unknown) => x);
    expect(isNetdbgError(e) && e.code).toBe("NETDBG-E801");
    expect(ask.asked.map((q) => q.flag)).toEqual(["target", "address", "ssh-user", "identity-file"]);
    expect(warnings.join("\n")).toMatch(
      /SSH to 192\.0\.2\.61 \(nothing was recorded for 'gone'\) failed, so the wizard stops here/,
    );
    expect((await ctx.inventory.load()).targets).toEqual([]);
  });

  it("without a TTY nothing is asked: E002 names the flag", async () => {
    const ctx = createContext({ stateDir: mkdtempSync(join(dir, "s-")) });
    const err = await runWizard(ctx, createPrompter(false), {}, none).catch((e: unknown) => e);
    expect(isNetdbgError(err) && err.code).toBe("NETDBG-E002");
    // a target is the command's argument: there is no --target flag to name
    expect((err as Error & { fix: string }).fix).toContain("the target's name as the command's argument");
    expect((err as Error & { fix: string }).fix).not.toContain("--target");
  });
});
