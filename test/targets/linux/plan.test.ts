import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isNetdbgError } from "../../../src/core/error.js";
import { parseKernelConfig } from "../../../src/targets/linux/kconfig.js";
import { depsInstall, type LinuxSetupConfig, pickNic, planLinuxSetup } from "../../../src/targets/linux/plan.js";
import type { DistroFamily, LinuxFacts } from "../../../src/targets/linux/probe.js";
import { KGDB_CONFIG } from "../../fakes/linux-target.js";

function facts(over: Partial<LinuxFacts> = {}): LinuxFacts {
  return {
    user: { uid: 0, name: "root" },
    sudo: "root",
    os: { id: "debian", idLike: [], pretty: "Debian 12", family: "debian" },
    kernel: { release: "6.1.192-kgdb", arch: "x86_64" },
    config: { source: "/boot/config-6.1.192-kgdb", cfg: parseKernelConfig(KGDB_CONFIG) },
    lockdown: "none",
    secureBoot: "legacy",
    sigEnforce: false,
    cmdline: "nokaslr",
    ibtCpu: false,
    tools: { headers: true, systemd: true, have: ["gcc", "make"] },
    nics: [
      { name: "eth0", driver: "e1000", state: "up", flags: [], ipv4: "10.0.2.15" },
      { name: "lo", driver: "-", state: "unknown", flags: ["virtual", "loopback"], ipv4: "127.0.0.1" },
    ],
    route: { to: "10.0.2.2", dev: "eth0", src: "10.0.2.15" },
    kallsyms: { address: "0xffffffff8111c170", kptrRestrict: "0" },
    kgdboc: "",
    cpusOnline: [0],
    nmiWatchdog: "0",
    watchdogDevices: [],
    state: {
      loaded: false,
      params: {},
      workdir: false,
      sourceId: "",
      builtId: "",
      commit: "",
      persistSum: "",
      unitEnabled: false,
    },
    ...over,
  };
}

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
    const cases: [DistroFamily, string, string][] = [
      [
        "debian",
        "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends linux-headers-6.1.192-kgdb gcc",
        "apt-get remove -y",
      ],
      ["fedora", "dnf install -y kernel-devel-6.1.192-kgdb elfutils-libelf-devel gcc", "dnf remove -y"],
      ["suse", "zypper --non-interactive install kernel-default-devel gcc", "zypper --non-interactive remove"],
      ["arch", "pacman -S --noconfirm linux-headers gcc", "pacman -R --noconfirm"],
    ];
    for (const [family, install, undo] of cases) {
      const f = facts({
        os: { id: family, idLike: [], pretty: family, family },
        tools: { headers: false, systemd: true, have: ["make"] },
      });
      expect(depsInstall(f).install).toBe(install);
      const a = planLinuxSetup(f, config).actions[0]!;
      expect(a.id).toBe("deps.install");
      expect(a.undo).toContain(undo);
    }
    const unknown = facts({
      os: { id: "x", idLike: [], pretty: "Gentoo", family: "unknown" },
      tools: { headers: false, systemd: true, have: [] },
    });
    expect(codeOf(() => planLinuxSetup(unknown, config))).toBe("NETDBG-E305");
  });

  it("picks the NIC that routes to the host; refuses bond slaves, bridge ports, Wi-Fi and NICs without IPv4", () => {
    expect(pickNic(facts()).name).toBe("eth0");
    for (const flags of [["bond-slave", "enslaved"], ["bridge-port", "enslaved"], ["wireless"], ["usb"]]) {
      const f = facts({ nics: [{ name: "eth0", driver: "x", state: "up", flags, ipv4: "10.0.2.15" }] });
      expect(codeOf(() => pickNic(f))).toBe("NETDBG-E307");
      expect(codeOf(() => pickNic(f, "eth0"))).toBe("NETDBG-E307");
    }
    expect(codeOf(() => pickNic(facts({ nics: [{ name: "eth0", driver: "e1000", state: "up", flags: [] }] }), "eth0"))).toBe(
      "NETDBG-E307",
    );
    expect(codeOf(() => pickNic(facts(), "eth9"))).toBe("NETDBG-E306");
  });

  it("stops before changes: no config, missing options, lockdown, kptr_restrict, module loaded by someone else, --apply-cmdline", () => {
    expect(codeOf(() => planLinuxSetup(facts({ config: { source: null, cfg: { options: {} } } }), config))).toBe("NETDBG-E302");
    expect(
      codeOf(() =>
        planLinuxSetup(
          facts({ config: { source: "/proc/config.gz", cfg: parseKernelConfig("CONFIG_KGDB=y\nCONFIG_MODULES=y") } }),
          config,
        ),
      ),
    ).toBe("NETDBG-E301");
    expect(codeOf(() => planLinuxSetup(facts({ lockdown: "integrity" }), config))).toBe("NETDBG-E303");
    expect(codeOf(() => planLinuxSetup(facts({ kallsyms: { kptrRestrict: "2" } }), config))).toBe("NETDBG-E308");
    const loaded = facts({ state: { ...facts().state, loaded: true, params: { device_name: "eth0" } } });
    expect(codeOf(() => planLinuxSetup(loaded, config))).toBe("NETDBG-E312");
    const kaslr = parseKernelConfig(`${KGDB_CONFIG}\nCONFIG_RANDOMIZE_BASE=y`);
    const sdboot = facts({
      config: { source: "/proc/config.gz", cfg: kaslr },
      boot: { tools: ["bootctl"], files: ["/etc/kernel/cmdline"], systemdBoot: true, grubby: [] },
    });
    expect(codeOf(() => planLinuxSetup(sdboot, { ...config, applyCmdline: true }))).toBe("NETDBG-E356");
    const expanding = facts({
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
    const f = facts({
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
          const f = facts({
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
