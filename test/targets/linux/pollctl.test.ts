import { describe, expect, it } from "vitest";
import { isNetdbgError } from "../../../src/core/error.js";
import { netdbgError } from "../../../src/core/error.js";
import { parseKernelConfig } from "../../../src/targets/linux/kconfig.js";
import { type LinuxSetupConfig, planLinuxSetup } from "../../../src/targets/linux/plan.js";
import { parsePollProbe, pollProbe, pollVerdict } from "../../../src/targets/linux/pollctl.js";
import type { LinuxFacts, Nic } from "../../../src/targets/linux/types.js";
import { type LinuxSetupResult, setupHeadline } from "../../../src/targets/linux/setup.js";
import { KGDB_CONFIG } from "../../../src/peers/linux-target.js";
import { linuxFactsWithNics } from "../../helpers/linux-facts.js";

const cfg = (source: LinuxSetupConfig["source"]): LinuxSetupConfig => ({
  udpPort: 31337,
  forceSingleCore: 1,
  installDeps: false,
  persist: false,
  applyCmdline: false,
  source,
  ownsLoadedModule: false,
});
const UPSTREAM = { kind: "git" as const, url: "https://github.com/sysprogs/kgdboe.git" };
const BUNDLED = {
  kind: "files" as const,
  label: "assets/kgdboe-compat",
  files: [
    { path: "Makefile", content: "obj-m := kgdboe.o\n" },
    { path: "kgdboe.c", content: "// SPDX-License-Identifier: GPL-2.0\n/* kgdboe-compat */\n" },
  ],
};
const virtio: Nic = { name: "enp0s3", driver: "virtio_net", state: "up", flags: [], ipv4: "10.0.2.15" };
const e1000: Nic = { name: "enp0s8", driver: "e1000", state: "up", flags: [], ipv4: "192.168.7.2" };

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe("poll controller probe and refusal (#16)", () => {
  it("kallsyms output: a module with a *_netpoll symbol has one, a loaded module without has none", () => {
    // lines as printed by pollProbe's awk over /proc/kallsyms (format: address type name [module])
    const p = parsePollProbe("mod=e1000\npoll=e1000\te1000_netpoll\nmod=virtio_net\n");
    expect(pollVerdict("e1000", p)).toEqual({ driver: "e1000", hasPoll: true, how: "kallsyms" });
    expect(pollVerdict("virtio_net", p)).toEqual({ driver: "virtio_net", hasPoll: false, how: "kallsyms" });
    // built-in driver (no [module] symbols): the reviewed table
    expect(pollVerdict("ena", p)).toEqual({ driver: "ena", hasPoll: false, how: "table" });
    expect(pollVerdict("mystery", p).hasPoll).toBeUndefined();
    // a reviewed driver whose hook has another name (bnx2: poll_bnx2) is not turned down by a silent kallsyms
    expect(pollVerdict("bnx2", parsePollProbe("mod=bnx2\n")).hasPoll).toBe(true);
  });

  it("the probe really filters /proc/kallsyms-format text with awk", async () => {
    const { execFileSync } = await import("node:child_process");
    const text = [
      "ffffffffc0123000 t e1000_netpoll\t[e1000]",
      "ffffffffc0124000 t e1000_open\t[e1000]",
      "ffffffffc0200000 t virtnet_poll\t[virtio_net]",
      "ffffffffc0300000 t other_netpoll\t[other]",
    ].join("\n");
    const cmd = pollProbe(["e1000", "virtio_net", "-", "bad;name"])!;
    expect(cmd).not.toContain("bad;name");
    const out = execFileSync("sh", ["-c", cmd.replace("/proc/kallsyms", "-")], { input: `${text.replace(/\t/g, " ")}\n` });
    const p = parsePollProbe(out.toString());
    expect(pollVerdict("e1000", p).hasPoll).toBe(true);
    expect(pollVerdict("virtio_net", p)).toMatchObject({ hasPoll: false, how: "kallsyms" });
    expect(p.has("other")).toBe(false);
  });

  it("upstream kgdboe on virtio_net is refused with E315 naming the driver, the NICs that work, and the bundled module", () => {
    const e = thrown(() => planLinuxSetup(linuxFactsWithNics([virtio, e1000]), cfg(UPSTREAM)));
    expect(isNetdbgError(e) && e.code).toBe("NETDBG-E315");
    if (!isNetdbgError(e)) return;
    expect(e.message).toContain("virtio_net");
    expect(e.message).toContain("enp0s3");
    expect(e.fix).toContain("enp0s8 (e1000)");
    expect(e.fix).toContain("--kgdboe-source bundled");
    expect(e.exitCode).toBe(1);
  });

  it("kallsyms wins over the table, and a NIC with a poll controller passes", () => {
    const p = parsePollProbe("mod=virtio_net\nmod=e1000\npoll=e1000\te1000_netpoll\n");
    expect(() => planLinuxSetup(linuxFactsWithNics([e1000, virtio], p), { ...cfg(UPSTREAM), nic: "enp0s8" })).not.toThrow();
    const e = thrown(() => planLinuxSetup(linuxFactsWithNics([virtio], p), cfg(UPSTREAM)));
    expect(isNetdbgError(e) && e.message).toMatch(/symbols in \/proc\/kallsyms have none/);
    expect(isNetdbgError(e) && e.fix).not.toContain("--nic");
  });

  it("the bundled module is allowed on virtio_net (it polls NAPI itself)", () => {
    const plan = planLinuxSetup(linuxFactsWithNics([virtio]), cfg(BUNDLED));
    expect(plan.nic.driver).toBe("virtio_net");
    expect(plan.warnings.join(" ")).not.toMatch(/poll controller/);
  });

  it("E326's fix no longer recommends virtio-net for upstream kgdboe", () => {
    const e = netdbgError("E326", { line: "netpoll: (null) eth0 doesn't support polling, aborting" });
    expect(e.fix).not.toMatch(/virtio-net in VMs/);
    expect(e.fix).toMatch(/bundled/);
  });
});

describe("setup's headline (#16: never 'loaded and verified' without an RSP answer)", () => {
  const base: LinuxSetupResult = {
    target: "lab",
    check: false,
    changed: true,
    kernel: "6.1",
    nic: "eth0",
    udpPort: 31337,
    forceSingleCore: 1,
    kallsymsAddress: "0x1",
    source: "git:x",
    actions: [{ id: "module.load", title: "load", outcome: "changed", command: "insmod" }],
    commands: [],
    warnings: [],
    advice: [],
  };
  it("no answer: says NOT verified, that the target may be stopped, and how to get it back", () => {
    const lines = setupHeadline("lab", {
      ...base,
      verified: {
        loaded: true,
        params: {},
        rsp: { outcome: "no-answer", endpoint: "udp:10.0.2.15:31337", seconds: 5, diagnosis: "", bytesOut: 10, bytesIn: 0 },
      },
    }).join("\n");
    expect(lines).not.toContain("loaded and verified");
    expect(lines).toContain("NOT verified");
    expect(lines).toMatch(/may now be stopped in the debugger/);
    expect(lines).toContain("netdbg connect lab");
  });
  it("verified answer: 'loaded and verified'", () => {
    const r = setupHeadline("lab", {
      ...base,
      verified: {
        loaded: true,
        params: {},
        rsp: { outcome: "verified", endpoint: "e", stop: "S05", signal: 5, arch: "x86_64", bytesOut: 1, bytesIn: 1 },
      },
    });
    expect(r[0]).toBe("lab: kgdboe loaded and verified (1 change; undo with 'netdbg teardown lab').");
  });
});

describe("upstream quirk guards (#16)", () => {
  it("force_single_core=0 with a built-in NIC driver is refused for upstream (E313), allowed for the bundled module", () => {
    // e1000 built in: kallsyms has no [e1000] symbols, only the other driver's
    const p = parsePollProbe("mod=virtio_net\n");
    const e = thrown(() => planLinuxSetup(linuxFactsWithNics([e1000], p), { ...cfg(UPSTREAM), forceSingleCore: 0 }));
    expect(isNetdbgError(e) && e.code).toBe("NETDBG-E313");
    expect(isNetdbgError(e) && e.message).toMatch(/built into the kernel/);
    expect(() => planLinuxSetup(linuxFactsWithNics([e1000], p), { ...cfg(BUNDLED), forceSingleCore: 0 })).not.toThrow();
    // as a module it is allowed
    const m = parsePollProbe("mod=e1000\npoll=e1000\te1000_netpoll\n");
    expect(() => planLinuxSetup(linuxFactsWithNics([e1000], m), { ...cfg(UPSTREAM), forceSingleCore: 0 })).not.toThrow();
  });

  it("IBT warning names the first debugger poll, not the load", () => {
    const plan = planLinuxSetup({ ...linuxFactsWithNics([e1000]), ibtCpu: true }, cfg(UPSTREAM));
    const w = plan.warnings.join("\n");
    expect(w).toMatch(/first debugger poll/);
    expect(w).not.toMatch(/oops at load/);
  });
});

describe("Intel IBT (#16)", () => {
  const ibt = (cmdline: string, ibtCpu = true, kernelIbt = true): LinuxFacts => {
    const f = linuxFactsWithNics([e1000]);
    f.ibtCpu = ibtCpu;
    f.cmdline = cmdline;
    f.config = {
      ...f.config,
      cfg: parseKernelConfig(`${KGDB_CONFIG}\n${kernelIbt ? "CONFIG_X86_KERNEL_IBT=y" : "# CONFIG_X86_KERNEL_IBT is not set"}\n`),
    };
    return f;
  };

  it("a CPU with IBT under a kernel built with CONFIG_X86_KERNEL_IBT is refused before any change (E316)", () => {
    for (const source of [UPSTREAM, BUNDLED]) {
      const e = thrown(() => planLinuxSetup(ibt("quiet nokaslr"), cfg(source)));
      expect(isNetdbgError(e) && e.code).toBe("NETDBG-E316");
      expect(isNetdbgError(e) && e.message).toMatch(/first debugger poll after loading, not at the load itself/);
      expect(isNetdbgError(e) && e.fix).toMatch(/ibt=off/);
    }
  });

  it("passes with ibt=off (or ibt=warn) on the command line, or when either the CPU or the kernel lacks IBT", () => {
    expect(() => planLinuxSetup(ibt("quiet ibt=off nokaslr"), cfg(UPSTREAM))).not.toThrow();
    expect(() => planLinuxSetup(ibt("ibt=warn"), cfg(UPSTREAM))).not.toThrow();
    expect(() => planLinuxSetup(ibt("quiet", false, true), cfg(UPSTREAM))).not.toThrow();
    expect(() => planLinuxSetup(ibt("quiet", true, false), cfg(UPSTREAM))).not.toThrow();
  });

  it("E331 no longer says the fault happens at load", () => {
    const e = netdbgError("E331", { line: "traps: Missing ENDBR: kallsyms_lookup_name+0x0/0x70" });
    expect(e.message).not.toMatch(/at load/);
    expect(e.message).toMatch(/control-protection fault/);
  });
});
