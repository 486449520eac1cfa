/**
 * The lab against real parts: a real KGDB kernel and Debian's stock kernel under QEMU TCG, real ssh, real gdb
 * over UDP, real network namespaces. Run by `npm run test:lab` (CI: .ci/run). Builds or reuses the cached
 * artifacts first (netdbg lab build) and prints how long each stage took. Traffic goes only to the lab's own
 * address (inside the namespace the lab creates); isolation is proven from route tables only.
 */
import { execa } from "execa";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolationViolations, parseLabSubnet } from "../../../src/lab/net.js";
import { DEFAULT_SUBNET, NETNS, VETH_HOST } from "../../../src/lab/spec.js";

const root = new URL("../../../", import.meta.url).pathname;
const bin = join(root, "bin/netdbg.js");
const config = mkdtempSync(join(tmpdir(), "lab-it-config-"));
// Inventory in a throwaway config dir; artifacts in the real XDG cache so runs reuse them.
const env = { XDG_CONFIG_HOME: config, NO_COLOR: "1" };

interface Endpoints {
  variant: string;
  ssh: { host: string; port: number; user: string; identityFile: string };
  kgdboc: { host: string; port: number; localPort: number };
  kgdboe: { host: string; port: number };
  vmlinux: string | null;
  kernelRelease: string;
}

async function netdbg(args: string[], timeout = 600_000) {
  const t0 = Date.now();
  const r = await execa(process.execPath, [bin, ...args], { env, reject: false, timeout, all: true });
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(`[lab-it] netdbg ${args.join(" ")} -> exit ${r.exitCode} in ${secs} s`);
  return r;
}

function need(tool: string, pkg: string) {
  const found = process.env.PATH?.split(":").some((d) => existsSync(join(d, tool)));
  if (!found) throw new Error(`${tool} is missing: apt-get install ${pkg}`);
}

async function ssh(e: Endpoints, command: string, input?: string) {
  return execa(
    "ssh",
    [
      "-i",
      e.ssh.identityFile,
      "-p",
      String(e.ssh.port),
      "-o",
      "BatchMode=yes",
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "LogLevel=ERROR",
      `${e.ssh.user}@${e.ssh.host}`,
      command,
    ],
    { reject: false, timeout: 300_000, ...(input === undefined ? {} : { input }) },
  );
}

const HELLO_C = `#include <linux/module.h>
#include <linux/init.h>
static int __init hello_init(void) { pr_info("netdbg-lab-hello: loaded\\n"); return 0; }
static void __exit hello_exit(void) { pr_info("netdbg-lab-hello: unloaded\\n"); }
module_init(hello_init);
module_exit(hello_exit);
MODULE_LICENSE("GPL");
`;

async function up(variant: "kgdb" | "stock"): Promise<Endpoints> {
  const r = await netdbg(["--json", "lab", "up", "--variant", variant], 900_000);
  if (r.exitCode !== 0) throw new Error(`netdbg lab up --variant ${variant} failed (exit ${r.exitCode}):\n${r.all}`);
  return JSON.parse(r.stdout) as Endpoints;
}

async function down() {
  const r = await netdbg(["lab", "down"]);
  if (r.exitCode !== 0) throw new Error(`netdbg lab down failed:\n${r.all}`);
}

async function assertNothingLeft(qemuPid: number | undefined) {
  if (qemuPid !== undefined) expect(existsSync(`/proc/${qemuPid}`), "QEMU process gone").toBe(false);
  const ps = await execa("ps", ["-eo", "args"], { reject: false });
  expect(ps.stdout).not.toMatch(/qemu-system-x86_64 -name netdbg-lab/);
  expect(ps.stdout).not.toMatch(/serial-relay\.mjs/);
  const ns = await execa("ip", ["netns", "list"]);
  expect(ns.stdout.split("\n").map((l) => l.split(" ")[0])).not.toContain(NETNS);
  const link = await execa("ip", ["link", "show", "dev", VETH_HOST], { reject: false });
  expect(link.exitCode).not.toBe(0);
  expect(readFileSync("/proc/mounts", "utf8")).not.toContain(NETNS);
}

function qemuPidFromStatus(): number | undefined {
  const stateDir = join(process.env.XDG_DATA_HOME ?? join(process.env.HOME ?? "/root", ".local/share"), "netdbg/lab");
  try {
    return JSON.parse(readFileSync(join(stateDir, "state.json"), "utf8")).qemuPid as number;
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  need("qemu-system-x86_64", "qemu-system-x86");
  need("gdb", "gdb");
  need("ssh", "openssh-client");
  need("socat", "socat");
  need("ip", "iproute2");
  await down(); // a lab left over from an interrupted run
  const r = await netdbg(["lab", "build"], 3_000_000);
  console.log(`[lab-it] lab build stages (kind, cached/rebuilt, seconds, dir):\n${r.stdout}`);
  if (r.exitCode !== 0) throw new Error(`netdbg lab build failed (exit ${r.exitCode}):\n${r.all}`);
}, 3_000_000);

afterAll(async () => {
  await netdbg(["lab", "down"]);
  rmSync(config, { recursive: true, force: true });
});

describe("lab, kgdb variant", () => {
  let e: Endpoints;
  let qemuPid: number | undefined;
  beforeAll(async () => {
    e = await up("kgdb");
    qemuPid = qemuPidFromStatus();
  }, 900_000);

  it("prints its endpoints at its own address on the private subnet", () => {
    const s = parseLabSubnet(DEFAULT_SUBNET)!;
    expect(e).toMatchObject({
      variant: "kgdb",
      ssh: { host: s.labAddress, port: 22, user: "root" },
      kgdboc: { host: s.labAddress, port: 31338, localPort: 0 },
      kgdboe: { host: s.labAddress, port: 31337 },
    });
    expect(e.kernelRelease).toMatch(/-kgdb$/);
    expect(existsSync(e.vmlinux!)).toBe(true);
    expect(existsSync(e.ssh.identityFile)).toBe(true);
  });

  it("lab status --json reports the same endpoints", async () => {
    const r = await netdbg(["--json", "lab", "status"]);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(e);
  });

  it("registered inventory target 'lab' (os linux, the lab key)", () => {
    const inv = readFileSync(join(config, "netdbg/targets.yaml"), "utf8");
    expect(inv).toMatch(/name: lab\n\s+os: linux\n\s+address: 10\.213\.77\.2/);
    expect(inv).toContain(`identityFile: ${e.ssh.identityFile}`);
  });

  it("takes ssh as root with the lab key, runs the KGDB kernel and has its headers for module builds", async () => {
    const r = await ssh(
      e,
      "id -u; uname -r; grep -E '^CONFIG_KGDB=' /boot/config-$(uname -r); test -f /lib/modules/$(uname -r)/build/Makefile && echo headers-ok",
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.split("\n")).toEqual(["0", e.kernelRelease, "CONFIG_KGDB=y", "headers-ok"]);
  });

  it("builds, loads and unloads an out-of-tree module in the guest against its own headers", async () => {
    const put = await ssh(
      e,
      "mkdir -p /tmp/hello && cat > /tmp/hello/hello.c && echo 'obj-m := hello.o' > /tmp/hello/Makefile",
      HELLO_C,
    );
    expect(put.exitCode, put.stderr).toBe(0);
    const r = await ssh(
      e,
      "make -s -C /lib/modules/$(uname -r)/build M=/tmp/hello modules >/tmp/hello/build.log 2>&1 || { cat /tmp/hello/build.log; exit 1; }; insmod /tmp/hello/hello.ko && rmmod hello && dmesg | grep -c netdbg-lab-hello",
    );
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout.trim()).toBe("2");
  });

  it("netdbg lab ssh runs a command in the guest", async () => {
    const r = await netdbg(["lab", "ssh", "--", "cat", "/etc/hostname"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe("netdbg-lab");
  });

  it("is isolated: the lab namespace routes nowhere but its own /30, IPv4 and IPv6 (route tables only)", async () => {
    const s = parseLabSubnet(DEFAULT_SUBNET)!;
    const v4 = await execa("ip", ["-n", NETNS, "-4", "-j", "route", "show", "table", "all"]);
    const v6 = await execa("ip", ["-n", NETNS, "-6", "-j", "route", "show", "table", "all"], { reject: false });
    expect(isolationViolations(v4.stdout, s)).toEqual([]);
    expect(isolationViolations(v6.stdout || "[]", s)).toEqual([]);
    expect(JSON.parse(v4.stdout).some((r: { dst?: string }) => r.dst === s.cidr)).toBe(true);
    // The normal namespace reaches the lab address over the veth (route lookup only, nothing sent).
    const get = await execa("ip", ["-j", "route", "get", s.labAddress]);
    expect(JSON.parse(get.stdout)[0]).toMatchObject({ dst: s.labAddress, dev: VETH_HOST });
  });

  it("answers a real gdb over UDP (kgdboc on ttyS1): registers and linux_banner match the vmlinux", async () => {
    const offline = await execa("gdb", ["-q", "-batch", "-nx", e.vmlinux!, "-ex", "x/s (char *)&linux_banner"]);
    const banner = /"(Linux version [^"]+)"/.exec(offline.stdout)?.[1];
    expect(banner, offline.stdout).toContain(e.kernelRelease);
    const brk = await netdbg(["lab", "break"]);
    expect(brk.exitCode, brk.all).toBe(0);
    const live = await execa(
      "gdb",
      [
        "-q",
        "-batch",
        "-nx",
        e.vmlinux!,
        "-ex",
        "set remotetimeout 20",
        "-ex",
        `target remote udp:${e.kgdboc.host}:${e.kgdboc.port}`,
        "-ex",
        "info registers rip rsp",
        "-ex",
        "x/s (char *)&linux_banner",
        "-ex",
        "detach",
      ],
      { reject: false, timeout: 180_000, all: true },
    );
    expect(live.all).toMatch(/rip\s+0xffffffff8[0-9a-f]{7}/);
    expect(live.all).toMatch(/rsp\s+0xffff[0-9a-f]{12}/);
    expect(live.all).toContain(`"${banner}"`);
    // detached: the kernel runs on and still answers ssh
    const alive = await ssh(e, "echo alive");
    expect(alive.stdout.trim()).toBe("alive");
  });

  it("lab down leaves no process, namespace, veth or mount", async () => {
    await down();
    await assertNothingLeft(qemuPid);
    const st = await netdbg(["lab", "status"]);
    expect(st.exitCode).toBe(1);
    expect(st.stderr).toContain("NETDBG-E604");
  });
});

describe("lab, stock variant", () => {
  let e: Endpoints;
  let qemuPid: number | undefined;
  beforeAll(async () => {
    e = await up("stock");
    qemuPid = qemuPidFromStatus();
  }, 900_000);

  it("runs Debian's own kernel, which reports no CONFIG_KGDB, and has its headers", async () => {
    expect(e.variant).toBe("stock");
    expect(e.vmlinux).toBeNull();
    const r = await ssh(
      e,
      "uname -r; grep -E 'CONFIG_KGDB[ =]' /boot/config-$(uname -r); test -f /lib/modules/$(uname -r)/build/Makefile && echo headers-ok",
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.split("\n")).toEqual([e.kernelRelease, "# CONFIG_KGDB is not set", "headers-ok"]);
    expect(e.kernelRelease).toMatch(/^6\.1\.0-\d+-amd64$/);
  });

  it("lab down leaves nothing behind", async () => {
    await down();
    await assertNothingLeft(qemuPid);
  });
});
