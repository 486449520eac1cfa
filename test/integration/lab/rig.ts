/**
 * The lab suites' shared rig: a throwaway home (inventory, journals, lab state, known_hosts) with the lab's
 * artifact cache left shared, its own lab instance (namespace, veth, /30), the built CLI run as a child, plain
 * OpenSSH into the guest, and one comparable snapshot of everything a Linux setup may touch on the guest.
 */
import { execa } from "execa";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";

export const root = new URL("../../../", import.meta.url).pathname;
export const bin = join(root, "bin/netdbg.js");
export const COMPAT = join(root, "assets/kgdboe-compat");

export interface Endpoints {
  variant: string;
  ssh: { host: string; port: number; user: string; identityFile: string };
  kgdboc: { host: string; port: number };
  kernelRelease: string;
  vmlinux?: string;
}

export function need(tool: string, pkg: string): void {
  if (!process.env.PATH?.split(":").some((d) => existsSync(join(d, tool))))
    throw new Error(`${tool} is missing: apt-get install ${pkg}`);
}

/** Everything a Linux setup may touch on the guest, as one comparable text. */
export const SNAPSHOT = [
  "echo netdbg-dir: $(ls -A /var/lib/netdbg 2>&1)",
  "echo module: $(lsmod | awk '$1==\"kgdboe\"')",
  "echo kgdboc: $(cat /sys/module/kgdboc/parameters/kgdboc 2>&1)",
  "echo cpus: $(cat /sys/devices/system/cpu/online)",
  "echo units: $(ls /etc/systemd/system | grep -c netdbg)",
  "echo etc: $(ls -A /etc/netdbg 2>&1)",
  "echo gro: $(cat /proc/sys/net/core/gro_normal_batch 2>&1)",
].join("; ");

export function labRig(tag: string, instance: string) {
  const home = mkdtempSync(join(tmpdir(), `nd-${tag}-it-`));
  const env = {
    NETDBG_LAB_INSTANCE: instance,
    HOME: home,
    XDG_CONFIG_HOME: join(home, "config"),
    XDG_DATA_HOME: join(home, "data"),
    XDG_CACHE_HOME: process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"),
    NO_COLOR: "1",
  };
  const journalFile = (target: string) => join(home, "data/netdbg/journals", `${target}.json`);

  function netdbgChild(args: string[], timeout = 1_500_000) {
    return execa(process.execPath, [bin, ...args], { env, reject: false, timeout, all: true });
  }

  async function netdbg(args: string[], timeout?: number) {
    const t0 = Date.now();
    const r = await netdbgChild(args, timeout);
    console.log(`[${tag}-it] netdbg ${args.join(" ")} -> exit ${r.exitCode} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return r;
  }

  async function ssh(e: Endpoints, command: string, input = "") {
    return execa(
      "ssh",
      [
        ...["-i", e.ssh.identityFile, "-p", String(e.ssh.port)],
        ...["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no"],
        ...["-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"],
        `${e.ssh.user}@${e.ssh.host}`,
        command,
      ],
      { reject: false, timeout: 120_000, input },
    );
  }

  async function snapshot(e: Endpoints): Promise<string> {
    const r = await ssh(e, SNAPSHOT);
    expect(r.exitCode, r.stderr).toBe(0);
    return r.stdout;
  }

  async function up(variant: "kgdb" | "stock", extra: string[] = []): Promise<Endpoints> {
    const r = await netdbg(["--json", "lab", "up", "--variant", variant, ...extra], 900_000);
    if (r.exitCode !== 0) throw new Error(`netdbg lab up --variant ${variant} failed (exit ${r.exitCode}):\n${r.all}`);
    return JSON.parse(r.stdout) as Endpoints;
  }

  /** The tools a lab suite needs, a lab left over from an interrupted run taken down, the lab's images built (cached). */
  async function build(): Promise<void> {
    need("qemu-system-x86_64", "qemu-system-x86");
    need("ssh", "openssh-client");
    need("ip", "iproute2");
    await netdbg(["lab", "down"]);
    const b = await netdbg(["lab", "build"], 3_000_000);
    if (b.exitCode !== 0) throw new Error(`netdbg lab build failed (exit ${b.exitCode}):\n${b.all}`);
  }

  /** build(), then this suite's lab up (`lab up --variant <variant> <extra>`): its endpoints and the guest's snapshot. */
  async function prepare(variant: "kgdb" | "stock", extra: string[] = []): Promise<{ e: Endpoints; pristine: string }> {
    await build();
    const e = await up(variant, extra);
    return { e, pristine: await snapshot(e) };
  }

  /** afterAll: the suite's lab down and its throwaway home removed. */
  async function dispose(): Promise<void> {
    await netdbg(["lab", "down"]);
    rmSync(home, { recursive: true, force: true });
  }

  return { home, env, journalFile, netdbgChild, netdbg, ssh, snapshot, up, build, prepare, dispose };
}
