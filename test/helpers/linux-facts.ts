/**
 * Facts the Linux probe gathers (src/targets/linux/types.ts), built for the planner and doctor tests: a Debian 12
 * machine on a kgdb kernel (the model's KGDB_CONFIG), root, eth0 with the route, one CPU, nothing of netdbg's yet.
 * Each test changes what it is about through `over`. And the input of setupLinuxTarget for such a target.
 */
import { KGDB_CONFIG } from "../../src/peers/linux-target.js";
import { parseKernelConfig } from "../../src/targets/linux/kconfig.js";
import type { LinuxSetupInput } from "../../src/targets/linux/setup.js";
import type { LinuxFacts, Nic } from "../../src/targets/linux/types.js";

export function linuxFacts(over: Partial<LinuxFacts> = {}): LinuxFacts {
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

/** linuxFacts on two CPUs with these NICs (the route leaves by the first) and, where given, the poll-controller probe. */
export function linuxFactsWithNics(nics: Nic[], pollCtl?: LinuxFacts["pollCtl"]): LinuxFacts {
  return linuxFacts({
    nics,
    ...(pollCtl ? { pollCtl } : {}),
    route: { to: "10.0.2.2", dev: nics[0]!.name, src: nics[0]!.ipv4! },
    cpusOnline: [0, 1],
  });
}

/** A kgdboe source of two small files, as the bundled compat module is read (assets/kgdboe-compat). */
export const COMPAT_SOURCE = {
  kind: "files" as const,
  label: "assets/kgdboe-compat",
  files: [
    { path: "Makefile", content: "obj-m := kgdboe.o\n" },
    { path: "kgdboe.c", content: "/* kgdboe-compat */\n" },
  ],
};

/**
 * setupLinuxTarget's input for target "lab" on 127.0.0.1 (or `target`): kgdboe on UDP 31337, one CPU forced,
 * no package installs, nothing persisted, the command line left alone, COMPAT_SOURCE; `over` changes the config.
 */
export function linuxSetupInput(over: Partial<LinuxSetupInput["config"]> = {}, check = false, target = "lab"): LinuxSetupInput {
  return {
    target,
    address: "127.0.0.1",
    check,
    config: {
      udpPort: 31337,
      forceSingleCore: 1,
      installDeps: false,
      persist: false,
      applyCmdline: false,
      source: COMPAT_SOURCE,
      ...over,
    },
  };
}
