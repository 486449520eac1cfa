/** Which suite and kernel source the lab builds from, on Debian 12 and 13, from os-release, dpkg and apt. */
import { describe, expect, it } from "vitest";
import type { CommandResult } from "../../src/core/interfaces.js";
import { aptCandidate, labDistro, osCodename } from "../../src/lab/distro.js";
import type { LabDeps } from "../../src/lab/ports.js";

const BOOKWORM = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n';
const TRIXIE = 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_ID="13"\nVERSION_CODENAME=trixie\n';
// `apt-cache policy` as apt 2.6 prints it (Debian 12; linux-source-6.12 comes from bookworm-security)
const POLICY_612 =
  "linux-source-6.12:\n  Installed: (none)\n  Candidate: 6.12.118-1~deb12u1\n  Version table:\n     6.12.118-1~deb12u1 500\n        500 http://deb.example/debian-security bookworm-security/main amd64 Packages\n";
const POLICY_NONE = "linux-source-6.1:\n  Installed: (none)\n  Candidate: (none)\n  Version table:\n";

function deps(osRelease: string | undefined, installed: string[], offered: Record<string, string>): LabDeps {
  const ok = (stdout: string, exitCode = 0): CommandResult => ({ stdout, stderr: "", exitCode });
  return {
    fs: {
      exists: async (p) => p === "/etc/os-release" && osRelease !== undefined,
      readText: async () => osRelease ?? "",
      writeText: async () => {},
      mkdirp: async () => {},
      remove: async () => {},
      rename: async () => {},
      list: async () => [],
    },
    clock: { now: () => new Date(0), sleep: async () => {} },
    log: { debug() {}, info() {}, warn() {}, error() {} },
    runner: {
      run: async (file, args) => {
        const pkg = args[args.length - 1]!;
        if (file === "dpkg-query") return installed.includes(pkg) ? ok("ii ") : ok("", 1);
        if (file === "apt-cache") return ok(offered[pkg] ?? "");
        return ok("", 127);
      },
    },
  };
}

describe("lab distro", () => {
  it("reads VERSION_CODENAME (quoted or not) and apt's candidate", () => {
    expect(osCodename(BOOKWORM)).toBe("bookworm");
    expect(osCodename('VERSION_CODENAME="trixie"\n')).toBe("trixie");
    expect(osCodename("ID=debian\n")).toBeUndefined();
    expect(aptCandidate(POLICY_612)).toBe("6.12.118-1~deb12u1");
    expect(aptCandidate(POLICY_NONE)).toBeUndefined();
    expect(aptCandidate("")).toBeUndefined();
  });

  it("Debian 12: linux-source-6.1 when installed or offered, 6.12 from bookworm-security when only it is", async () => {
    expect(await labDistro(deps(BOOKWORM, ["linux-source-6.1"], {}), {})).toEqual({
      suite: "bookworm",
      kernelSource: "linux-source-6.1",
      tarball: "/usr/src/linux-source-6.1.tar.xz",
      installed: true,
    });
    const both = await labDistro(deps(BOOKWORM, [], { "linux-source-6.1": POLICY_612, "linux-source-6.12": POLICY_612 }), {});
    expect([both.kernelSource, both.installed]).toEqual(["linux-source-6.1", false]);
    const only612 = await labDistro(deps(BOOKWORM, [], { "linux-source-6.12": POLICY_612 }), {});
    expect(only612.kernelSource).toBe("linux-source-6.12");
    // an installed 6.12 is used before downloading 6.1
    expect((await labDistro(deps(BOOKWORM, ["linux-source-6.12"], { "linux-source-6.1": POLICY_612 }), {})).kernelSource).toBe(
      "linux-source-6.12",
    );
  });

  it("Debian 13: trixie and linux-source-6.12", async () => {
    const d = await labDistro(deps(TRIXIE, [], { "linux-source-6.12": POLICY_612 }), {});
    expect(d).toEqual({
      suite: "trixie",
      kernelSource: "linux-source-6.12",
      tarball: "/usr/src/linux-source-6.12.tar.xz",
      installed: false,
    });
  });

  it("NETDBG_LAB_KERNEL_SOURCE picks one the suite supports; anything else is E600", async () => {
    const d = await labDistro(deps(BOOKWORM, ["linux-source-6.1"], {}), { NETDBG_LAB_KERNEL_SOURCE: "linux-source-6.12" });
    expect(d.kernelSource).toBe("linux-source-6.12");
    await expect(labDistro(deps(TRIXIE, [], {}), { NETDBG_LAB_KERNEL_SOURCE: "linux-source-6.1" })).rejects.toMatchObject({
      code: "NETDBG-E600",
    });
  });

  it("another OS or release is E600 naming what os-release says", async () => {
    await expect(labDistro(deps("VERSION_CODENAME=jammy\n", [], {}), {})).rejects.toMatchObject({
      code: "NETDBG-E600",
      message: expect.stringContaining("VERSION_CODENAME=jammy"),
    });
    await expect(labDistro(deps(undefined, [], {}), {})).rejects.toMatchObject({ code: "NETDBG-E600" });
  });
});
