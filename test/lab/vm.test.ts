import { describe, expect, it } from "vitest";
import type { CommandResult, RunOptions } from "../../src/core/interfaces.js";
import type { LabArtifacts } from "../../src/lab/artifacts.js";
import { parseLabSubnet } from "../../src/lab/net.js";
import type { LabDeps, LabFs, LabPaths } from "../../src/lab/ports.js";
import { labNames } from "../../src/lab/spec.js";
import { labDown, labUp, pickAccel, sshArgv, type LabState } from "../../src/lab/vm.js";

/** A command-table runner (after np's tests): each call is recorded; answers come from `table` by prefix. */
function fakeDeps(table: Record<string, Partial<CommandResult>>, files: Record<string, string> = {}) {
  const calls: string[] = [];
  const store = new Map(Object.entries(files));
  const fs: LabFs = {
    readText: async (p) => {
      const v = store.get(p);
      if (v === undefined) throw new Error(`ENOENT ${p}`);
      return v;
    },
    writeText: async (p, c) => {
      store.set(p, c);
    },
    exists: async (p) => store.has(p),
    mkdirp: async () => {},
    remove: async (p) => {
      store.delete(p);
    },
    rename: async () => {},
    list: async () => [],
  };
  const deps: LabDeps = {
    runner: {
      run: async (file: string, args: readonly string[], _o?: RunOptions) => {
        const line = [file, ...args].join(" ");
        calls.push(line);
        const key = Object.keys(table).find((k) => line.startsWith(k));
        return { stdout: "", stderr: "", exitCode: 0, ...(key ? table[key] : {}) };
      },
    },
    fs,
    clock: { now: () => new Date(0), sleep: async () => {} },
    log: { debug() {}, info() {}, warn() {}, error() {} },
  };
  return { deps, calls, store };
}

const paths: LabPaths = { cache: "/c", state: "/s", templates: "/t", node: "/usr/bin/node" };

describe("lab down", () => {
  it("is a no-op when nothing is running (no kill, no ip del)", async () => {
    const { deps, calls } = fakeDeps({ "ip link show": { exitCode: 1 } });
    expect(await labDown(deps, paths)).toEqual([]);
    expect(calls.filter((c) => c.includes("--stop") || c.includes(" del "))).toEqual([]);
  });

  it("stops QEMU and the relay by pid (only when the pid is really theirs), then the veth and the namespace", async () => {
    const { deps, calls, store } = fakeDeps(
      { "ip netns pids": { stdout: "" } },
      {
        "/s/qemu.pid": "4242\n",
        "/proc/4242/cmdline": "qemu-system-x86_64\0-name\0netdbg-lab-kgdb",
        "/s/relay.pid": "4343\n",
        "/proc/4343/cmdline": "node\0/t/serial-relay.mjs",
        "/run/netns/netdbg-lab": "",
        "/s/state.json": "{}",
      },
    );
    deps.runner.run = (async (file: string, args: readonly string[]) => {
      const line = [file, ...args].join(" ");
      calls.push(line);
      if (line === "ip netns del netdbg-lab") store.delete("/run/netns/netdbg-lab");
      return { stdout: "", stderr: "", exitCode: 0 };
    }) as typeof deps.runner.run;
    const stopped = await labDown(deps, paths);
    expect(stopped).toEqual(["QEMU (pid 4242)", "serial relay (pid 4343)", "veth ndlab0", "network namespace netdbg-lab"]);
    expect(calls).toContain("start-stop-daemon --stop --quiet --pid 4242 --retry TERM/10/KILL/5");
    expect(calls).toContain("ip link del ndlab0");
    expect(calls.at(-1)).toBe("ip netns del netdbg-lab");
    expect(store.has("/s/state.json")).toBe(false);
  });

  it("never signals a recycled pid that is not QEMU", async () => {
    const { deps, calls } = fakeDeps({ "ip link show": { exitCode: 1 } }, { "/s/qemu.pid": "99\n", "/proc/99/cmdline": "bash" });
    await labDown(deps, paths);
    expect(calls.some((c) => c.includes("--pid 99"))).toBe(false);
  });
});

describe("lab instances", () => {
  it("instance 0 keeps the plain names; others get their own namespace, veths (<= 15 chars) and /30", () => {
    expect(labNames(0)).toEqual({
      instance: 0,
      netns: "netdbg-lab",
      vethHost: "ndlab0",
      vethLab: "ndlab1",
      defaultSubnet: "10.213.77.0/30",
    });
    expect(labNames(63)).toEqual({
      instance: 63,
      netns: "netdbg-lab-63",
      vethHost: "ndl63-h",
      vethLab: "ndl63-g",
      defaultSubnet: "10.213.140.0/30",
    });
    for (let i = 0; i <= 63; i++) {
      const n = labNames(i);
      expect(n.vethHost.length).toBeLessThanOrEqual(15);
      expect(parseLabSubnet(n.defaultSubnet), n.defaultSubnet).toBeDefined();
    }
    expect(() => labNames(64)).toThrow(RangeError);
  });

  it("without its own state, down refuses a namespace where another lab's processes run (NETDBG-E611)", async () => {
    const { deps, calls } = fakeDeps({ "ip netns pids netdbg-lab": { stdout: "777\n" } }, { "/run/netns/netdbg-lab": "" });
    const err = await labDown(deps, paths).catch((e) => e);
    expect(err.code).toBe("NETDBG-E611");
    expect(calls.some((c) => c.includes("--stop") || c.includes(" del "))).toBe(false);
  });

  it("a stale state file (its QEMU gone) does not make another lab's namespace ours", async () => {
    const { deps, calls } = fakeDeps(
      { "ip netns pids netdbg-lab": { stdout: "4343\n777\n" } },
      {
        "/s/state.json": JSON.stringify({ netns: "netdbg-lab", vethHost: "ndlab0" }),
        "/s/qemu.pid": "4242\n",
        "/s/relay.pid": "4343\n",
        "/proc/4343/cmdline": "node\0/t/serial-relay.mjs",
        "/run/netns/netdbg-lab": "",
      },
    );
    const err = await labDown(deps, paths).catch((e) => e);
    expect(err.code).toBe("NETDBG-E611");
    expect(calls.some((c) => c.includes("--stop") || c.includes(" del "))).toBe(false);
  });

  it("without state, an empty leftover namespace is removed", async () => {
    const { deps, calls } = fakeDeps({ "ip link show": { exitCode: 1 } }, { "/run/netns/netdbg-lab-3": "" });
    await labDown(deps, paths, labNames(3));
    expect(calls).toContain("ip netns del netdbg-lab-3");
  });
});

describe("lab up", () => {
  const art = {} as LabArtifacts;
  it("refuses a subnet that overlaps an existing route before creating anything", async () => {
    const { deps, calls } = fakeDeps({
      "ip link show": { exitCode: 1 },
      "ip -j -4 route show table all": { stdout: JSON.stringify([{ dst: "10.213.0.0/16", dev: "br0" }]) },
    });
    const err = await labUp(deps, paths, art, {
      names: labNames(0),
      variant: "kgdb",
      smp: 1,
      subnet: parseLabSubnet("10.213.77.0/30")!,
    }).catch((e) => e);
    expect(err.code).toBe("NETDBG-E606");
    expect(err.message).toContain("10.213.0.0/16 dev br0");
    expect(calls.some((c) => c.startsWith("ip netns add"))).toBe(false);
  });
});

describe("helpers", () => {
  it("uses TCG on a CPU without vmx/svm even when /dev/kvm exists (nested virt: KVM crawls there)", async () => {
    const { deps } = fakeDeps({}, { "/proc/cpuinfo": "flags\t\t: fpu vme sse hypervisor\n", "/dev/kvm": "" });
    expect(await pickAccel(deps)).toBe("tcg");
    const k = fakeDeps({}, { "/proc/cpuinfo": "flags\t\t: fpu vmx sse\n", "/dev/kvm": "" });
    expect(await pickAccel(k.deps)).toBe("kvm");
  });

  it("ssh argv pins the lab's host key file and the lab identity", () => {
    const s = {
      endpoints: { ssh: { host: "10.213.77.2", port: 22, user: "root", identityFile: "/c/rootfs-x/id_ed25519" } },
      knownHosts: "/s/known_hosts",
    } as LabState;
    expect(sshArgv(s, "uname -r")).toEqual([
      "-i",
      "/c/rootfs-x/id_ed25519",
      "-p",
      "22",
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      "UserKnownHostsFile=/s/known_hosts",
      "-o",
      "LogLevel=ERROR",
      "root@10.213.77.2",
      "uname -r",
    ]);
  });
});
