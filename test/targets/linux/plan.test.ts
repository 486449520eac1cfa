import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isNetdbgError } from "../../../src/core/error.js";
import { parseKernelConfig } from "../../../src/targets/linux/kconfig.js";
import {
  buildCompiler,
  depsInstall,
  kernelGccMajor,
  type LinuxSetupConfig,
  pickNic,
  planLinuxSetup,
} from "../../../src/targets/linux/plan.js";
import type { DistroFamily, LinuxFacts } from "../../../src/targets/linux/types.js";
import { KGDB_CONFIG } from "../../../src/peers/linux-target.js";
import { linuxFacts } from "../../helpers/linux-facts.js";

const config: LinuxSetupConfig = {
  udpPort: 31337,
  forceSingleCore: 1,
  installDeps: true,
  persist: false,
  applyCmdline: false,
  ownsLoadedModule: false,
  source: { kind: "files", label: "x", files: [{ path: "Makefile", content: "obj-m := kgdboe.o\n" }] },
};

const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return isNetdbgError(e) ? e.code : String(e);
  }
  return "no error";
};

describe("planLinuxSetup", () => {
  it("installs missing headers and compilers with each distro's package names, undone by removal", () => {
    // the package index refreshed first (a fresh cloud image has none), the headers of exactly the running kernel
    const cases: [DistroFamily, string, string][] = [
      [
        "debian",
        "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends linux-headers-6.1.192-kgdb gcc",
        "apt-get remove -y",
      ],
      ["fedora", "dnf install -y --refresh 'kernel-devel-uname-r == 6.1.192-kgdb' elfutils-libelf-devel gcc", "dnf remove -y"],
      [
        "suse",
        "zypper --non-interactive refresh && zypper --non-interactive install kernel-kgdb-devel=6.1.192 gcc",
        "zypper --non-interactive remove",
      ],
      ["arch", "pacman -S --needed --noconfirm linux-headers gcc", "pacman -R --noconfirm"],
    ];
    for (const [family, install, undo] of cases) {
      const f = linuxFacts({
        os: { id: family, idLike: [], pretty: family, family },
        tools: { headers: false, systemd: true, have: ["make"] },
      });
      expect(depsInstall(f).install).toBe(install);
      const a = planLinuxSetup(f, config).actions[0]!;
      expect(a.id).toBe("deps.install");
      expect(a.undo).toContain(undo);
    }
    const unknown = linuxFacts({
      os: { id: "x", idLike: [], pretty: "Gentoo", family: "unknown" },
      tools: { headers: false, systemd: true, have: [] },
    });
    expect(codeOf(() => planLinuxSetup(unknown, config))).toBe("NETDBG-E305");
  });

  it("the headers package follows the kernel's flavour on SUSE and Arch", () => {
    const pkgs = (family: DistroFamily, release: string) =>
      depsInstall(
        linuxFacts({
          os: { id: family, idLike: [], pretty: family, family },
          kernel: { release, arch: "x86_64" },
          tools: { headers: false, systemd: true, have: ["gcc", "make"] },
        }),
      ).install;
    expect(pkgs("suse", "5.14.21-150500.55.19-default")).toContain("kernel-default-devel=5.14.21-150500.55.19");
    expect(pkgs("suse", "5.14.21-150500.13.5-azure")).toContain("kernel-azure-devel=5.14.21-150500.13.5");
    expect(pkgs("arch", "6.6.1-arch1-1")).toContain(" linux-headers");
    expect(pkgs("arch", "6.1.62-1-lts")).toContain("linux-lts-headers");
    expect(pkgs("arch", "6.6.1-zen1-1-zen")).toContain("linux-zen-headers");
  });

  it("builds with the kernel's own gcc (CONFIG_GCC_VERSION) where the default gcc is another major", () => {
    // Debian 12's stock kernel (a real config) and its default gcc 12.2.0: nothing to change
    const debian = parseKernelConfig(
      readFileSync(new URL("../../fixtures/linux/debian12-6.1.0-50-amd64-config-compiler.txt", import.meta.url), "utf8"),
    );
    expect(kernelGccMajor(debian)).toBe(12);
    const onDebian = linuxFacts({
      config: { source: "/boot/config", cfg: parseKernelConfig(`${KGDB_CONFIG}\nCONFIG_GCC_VERSION=120200`) },
      tools: { headers: true, systemd: true, have: ["gcc", "make"], gccVersion: "12.2.0" },
    });
    expect(buildCompiler(onDebian)).toEqual({});
    const make = (f: LinuxFacts, c = config) => planLinuxSetup(f, c).actions.find((a) => a.id === "module.build")!.command;
    expect(make(onDebian)).not.toContain("CC=");
    // an Ubuntu 22.04 HWE kernel (built with gcc-12) on a machine whose default gcc is 11.4.0
    const hwe = parseKernelConfig(
      `${KGDB_CONFIG}\nCONFIG_CC_VERSION_TEXT="x86_64-linux-gnu-gcc-12 (Ubuntu 12.3.0-1ubuntu1~22.04) 12.3.0"\nCONFIG_CC_IS_GCC=y`,
    );
    expect(kernelGccMajor(hwe)).toBe(12);
    const ubuntu = (have: string[]) =>
      linuxFacts({
        os: { id: "ubuntu", idLike: ["debian"], pretty: "Ubuntu 22.04", family: "debian" },
        config: { source: "/boot/config", cfg: hwe },
        tools: { headers: true, systemd: true, have, gccVersion: "11.4.0" },
      });
    expect(make(ubuntu(["gcc", "make", "gcc-12"]))).toContain(" CC=gcc-12 ");
    const missing = ubuntu(["gcc", "make"]);
    expect(depsInstall(missing).install).toBe(
      "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc-12",
    );
    expect(make(missing)).toContain(" CC=gcc-12 ");
    expect(codeOf(() => planLinuxSetup(missing, { ...config, installDeps: false }))).toBe("NETDBG-E304");
    // Fedora ships one gcc: a mismatch is a warning, never a CC= that does not exist
    const fedora = linuxFacts({
      os: { id: "fedora", idLike: [], pretty: "Fedora 40", family: "fedora" },
      config: { source: "/boot/config", cfg: parseKernelConfig(`${KGDB_CONFIG}\nCONFIG_GCC_VERSION=140100`) },
      tools: { headers: true, systemd: true, have: ["gcc", "make"], gccVersion: "14.2.1" },
    });
    expect(buildCompiler(fedora)).toEqual({});
    const f13 = linuxFacts({ ...fedora, tools: { ...fedora.tools, gccVersion: "13.3.1" } });
    expect(make(f13)).not.toContain("CC=");
    expect(planLinuxSetup(f13, config).warnings.join(" ")).toMatch(/built with gcc 14 and the target's gcc is 13\.3\.1/);
    // clang-built kernels are left to kbuild
    expect(kernelGccMajor(parseKernelConfig('CONFIG_CC_IS_CLANG=y\nCONFIG_CC_VERSION_TEXT="clang version 17.0.6"'))).toBe(
      undefined,
    );
  });

  it("picks the NIC that routes to the host; refuses bond slaves, bridge ports, Wi-Fi and NICs without IPv4", () => {
    expect(pickNic(linuxFacts()).name).toBe("eth0");
    for (const flags of [["bond-slave", "enslaved"], ["bridge-port", "enslaved"], ["wireless"], ["usb"]]) {
      const f = linuxFacts({ nics: [{ name: "eth0", driver: "x", state: "up", flags, ipv4: "10.0.2.15" }] });
      expect(codeOf(() => pickNic(f))).toBe("NETDBG-E307");
      expect(codeOf(() => pickNic(f, "eth0"))).toBe("NETDBG-E307");
    }
    expect(codeOf(() => pickNic(linuxFacts({ nics: [{ name: "eth0", driver: "e1000", state: "up", flags: [] }] }), "eth0"))).toBe(
      "NETDBG-E307",
    );
    expect(codeOf(() => pickNic(linuxFacts(), "eth9"))).toBe("NETDBG-E306");
  });

  it("stops before changes: no config, missing options, lockdown, kptr_restrict, module loaded by someone else, --apply-cmdline", () => {
    expect(codeOf(() => planLinuxSetup(linuxFacts({ config: { source: null, cfg: { options: {} } } }), config))).toBe(
      "NETDBG-E302",
    );
    expect(
      codeOf(() =>
        planLinuxSetup(
          linuxFacts({ config: { source: "/proc/config.gz", cfg: parseKernelConfig("CONFIG_KGDB=y\nCONFIG_MODULES=y") } }),
          config,
        ),
      ),
    ).toBe("NETDBG-E301");
    expect(codeOf(() => planLinuxSetup(linuxFacts({ lockdown: "integrity" }), config))).toBe("NETDBG-E303");
    expect(codeOf(() => planLinuxSetup(linuxFacts({ kallsyms: { kptrRestrict: "2" } }), config))).toBe("NETDBG-E308");
    const loaded = linuxFacts({ state: { ...linuxFacts().state, loaded: true, params: { device_name: "eth0" } } });
    expect(codeOf(() => planLinuxSetup(loaded, config))).toBe("NETDBG-E312");
    const kaslr = parseKernelConfig(`${KGDB_CONFIG}\nCONFIG_RANDOMIZE_BASE=y`);
    const sdboot = linuxFacts({
      config: { source: "/proc/config.gz", cfg: kaslr },
      boot: { tools: ["bootctl"], files: ["/etc/kernel/cmdline"], systemdBoot: true, grubby: [] },
    });
    expect(codeOf(() => planLinuxSetup(sdboot, { ...config, applyCmdline: true }))).toBe("NETDBG-E356");
    const expanding = linuxFacts({
      config: { source: "/proc/config.gz", cfg: kaslr },
      boot: {
        tools: ["update-grub"],
        files: [],
        systemdBoot: false,
        grubby: [],
        grubDefaults: { path: "/etc/default/grub", text: 'GRUB_CMDLINE_LINUX="$X"\n', sha256: "0".repeat(64) },
      },
    });
    expect(codeOf(() => planLinuxSetup(expanding, { ...config, applyCmdline: true }))).toBe("NETDBG-E357");
  });

  it("adds KCFLAGS=-Wno-error on CONFIG_WERROR kernels and re-onlines offlined CPUs on undo", () => {
    const f = linuxFacts({
      config: { source: "/boot/x", cfg: parseKernelConfig(`${KGDB_CONFIG}\nCONFIG_WERROR=y`) },
      cpusOnline: [0, 1, 2, 3],
    });
    const p = planLinuxSetup(f, config);
    expect(p.actions.find((a) => a.id === "module.build")?.command).toContain(" KCFLAGS=-Wno-error modules");
    expect(p.actions.find((a) => a.id === "module.load")?.undo).toContain(
      "for c in 1 2 3; do echo 1 > /sys/devices/system/cpu/cpu$c/online; done",
    );
    expect(p.warnings.join(" ")).toMatch(/CPUs 1,2,3 offline/);
  });

  it("no target-supplied NIC name breaks out of the insmod line (quoted as one word)", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 15 }).filter((s) => !s.includes("\0")),
        (name) => {
          const f = linuxFacts({
            nics: [{ name, driver: "e1000", state: "up", flags: [], ipv4: "10.0.2.15" }],
            route: { to: "x", dev: name },
          });
          const load = planLinuxSetup(f, config).actions.find((a) => a.id === "module.load")!.command;
          const argv = JSON.parse(
            execFileSync(
              "sh",
              ["-c", `node -e 'console.log(JSON.stringify(process.argv.slice(1)))' -- ${load.replace(/^insmod /, "")}`],
              {
                encoding: "utf8",
              },
            ),
          ) as string[];
          expect(argv[1]).toBe(`device_name=${name}`);
        },
      ),
      { numRuns: 40 },
    );
  });
});
