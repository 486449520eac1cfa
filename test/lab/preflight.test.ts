import { describe, expect, it } from "vitest";
import { isNetdbgError } from "../../src/core/error.js";
import type { CommandRunner } from "../../src/core/interfaces.js";
import type { LabDeps, LabFs } from "../../src/lab/ports.js";
import { checkDebian, checkTools, parseInstalled } from "../../src/lab/preflight.js";

function depsWith(run: CommandRunner["run"], files: Record<string, string> = {}): LabDeps {
  const fs: LabFs = {
    readText: async (p) => {
      if (p in files) return files[p]!;
      throw new Error(`ENOENT ${p}`);
    },
    writeText: async () => {},
    exists: async (p) => p in files,
    mkdirp: async () => {},
    remove: async () => {},
    rename: async () => {},
    list: async () => [],
  };
  return {
    runner: { run },
    fs,
    clock: { now: () => new Date(0), sleep: async () => {} },
    log: { debug() {}, info() {}, warn() {}, error() {} },
  };
}

describe("lab preflight", () => {
  it("parses dpkg-query status lines (installed = ii)", () => {
    const s = parseInstalled("qemu-system-x86 ii \ndebootstrap un \nlibelf-dev:amd64 ii \n");
    expect([...s]).toEqual(["qemu-system-x86", "libelf-dev"]);
  });

  it("names each missing tool with its apt package", async () => {
    const deps = depsWith(async () => ({
      stdout: "iproute2 ii \n",
      stderr: "dpkg-query: no packages found matching qemu-system-x86\n",
      exitCode: 1,
    }));
    const err = await checkTools(deps, ["qemu-system-x86_64", "ip", "ssh"]).catch((e) => e);
    expect(isNetdbgError(err)).toBe(true);
    expect(err.code).toBe("NETDBG-E601");
    expect(err.message).toContain("qemu-system-x86_64 (package qemu-system-x86)");
    expect(err.message).toContain("ssh (package openssh-client)");
    expect(err.fix).toBe("Install them with 'apt-get install qemu-system-x86 openssh-client', then run the command again.");
  });

  it("passes when everything is installed, asking dpkg-query once", async () => {
    const calls: string[][] = [];
    const deps = depsWith(async (file, args) => {
      calls.push([file, ...args]);
      return { stdout: "qemu-system-x86 ii \niproute2 ii \nlibelf-dev ii \n", stderr: "", exitCode: 0 };
    });
    await checkTools(deps, ["qemu-system-x86_64", "ip"], ["libelf-dev"]);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.slice(-3)).toEqual(["qemu-system-x86", "iproute2", "libelf-dev"]);
  });

  it("a host without /etc/debian_version gets NETDBG-E600", async () => {
    const err = await checkDebian(depsWith(async () => ({ stdout: "", stderr: "", exitCode: 0 }))).catch((e) => e);
    expect(err.code).toBe("NETDBG-E600");
    await expect(
      checkDebian(depsWith(async () => ({ stdout: "", stderr: "", exitCode: 0 }), { "/etc/debian_version": "12.8\n" })),
    ).resolves.toBeUndefined();
  });
});
