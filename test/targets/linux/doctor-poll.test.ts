import { describe, expect, it } from "vitest";
import type { Target } from "../../../src/core/inventory.js";
import { pollControllerCheck } from "../../../src/doctor/checks-linux.js";
import { runChecks } from "../../../src/doctor/run.js";
import { parseKernelConfig } from "../../../src/targets/linux/kconfig.js";
import { parsePollProbe } from "../../../src/targets/linux/pollctl.js";
import type { LinuxFacts, Nic } from "../../../src/targets/linux/types.js";
import { KGDB_CONFIG } from "../../../src/peers/linux-target.js";

const target: Target = { name: "lx", os: "linux", address: "10.0.2.15", port: 50020 };

function facts(nics: Nic[], pollCtl?: LinuxFacts["pollCtl"]): LinuxFacts {
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
    nics,
    ...(pollCtl ? { pollCtl } : {}),
    route: { to: "10.0.2.2", dev: nics[0]!.name, src: nics[0]!.ipv4! },
    kallsyms: { address: "0xffffffff8111c170", kptrRestrict: "0" },
    kgdboc: "",
    cpusOnline: [0, 1],
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
  };
}

const run = async (f: LinuxFacts) => (await runChecks({ target, linuxFacts: async () => f }, [pollControllerCheck]))[0]!;

describe("doctor: linux.poll-controller shows setup's verdict", () => {
  it("virtio_net (module without a poll controller): a warning with E315 and the bundled module", async () => {
    const r = await run(
      facts(
        [{ name: "enp0s3", driver: "virtio_net", state: "up", flags: [], ipv4: "10.0.2.15" }],
        parsePollProbe("mod=virtio_net\n"),
      ),
    );
    expect(r.status).toBe("warn");
    expect(r.code).toBe("NETDBG-E315");
    expect(r.fix).toContain("bundled");
  });
  it("e1000 with e1000_netpoll: ok", async () => {
    const r = await run(
      facts(
        [{ name: "eth0", driver: "e1000", state: "up", flags: [], ipv4: "10.0.2.15" }],
        parsePollProbe("mod=e1000\npoll=e1000\te1000_netpoll\n"),
      ),
    );
    expect(r.status).toBe("ok");
    expect(r.message).toContain("e1000");
  });
});
