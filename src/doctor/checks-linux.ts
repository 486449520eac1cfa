/**
 * Linux target checks over the probe's facts (targets/linux/probe.ts): kernel config, lockdown, headers, and
 * kgdboe loaded and answering a GDB remote exchange (sysprogs/kgdboe at d4b4f22: its parameters and the kernel options it needs).
 * Findings that setup would stop on report setup's own codes (E300–E304), so the fix is the same everywhere.
 */
import { isNetdbgError, netdbgError } from "../core/error.js";
import { KGDBOE_REQUIRED, kconfigEnabled, kconfigValue } from "../targets/linux/kconfig.js";
import { depsInstall, pickNic, refuseWithoutPollController } from "../targets/linux/plan.js";
import { pollVerdict } from "../targets/linux/pollctl.js";
import type { Check, CheckOutcome, DoctorDeps } from "./types.js";
import { errorText, fromError, withFacts } from "./util.js";

const isLinux = (d: DoctorDeps) => d.target?.os === "linux" && d.linuxFacts !== undefined;

/** kgdboe's default UDP port on the target (linux-target.md; the CLI's KGDBOE_DEFAULT_PORT). */
const KGDBOE_PORT = 31337;

export const kconfigCheck: Check = {
  id: "linux.kconfig",
  title: "Kernel built with KGDB and what kgdboe needs",
  needs: "target.ssh",
  applies: isLinux,
  run: (d) =>
    withFacts(d, d.linuxFacts, (f): CheckOutcome => {
      const release = f.kernel.release;
      if (!f.config.source) return fromError(netdbgError("E302", { release }));
      const cfg = f.config.cfg;
      if (!kconfigEnabled(cfg, "KGDB")) return fromError(netdbgError("E300", { release, source: f.config.source }));
      const missing = KGDBOE_REQUIRED.filter((o) => !kconfigEnabled(cfg, o)).map((o) => `CONFIG_${o}`);
      if (missing.length) return fromError(netdbgError("E301", { release, missing }));
      const notes: string[] = [];
      if (kconfigEnabled(cfg, "RANDOMIZE_BASE") && !/\bnokaslr\b/.test(f.cmdline))
        notes.push("KASLR is on (boot with nokaslr so symbols match vmlinux)");
      if (kconfigValue(cfg, "STRICT_KERNEL_RWX") === "y" && !/\brodata=off\b/.test(f.cmdline))
        notes.push("STRICT_KERNEL_RWX is on (software breakpoints in kernel text need rodata=off; hardware ones work)");
      return {
        status: "ok",
        message: `Kernel ${release} has ${KGDBOE_REQUIRED.map((o) => `CONFIG_${o}`).join(", ")} (from ${f.config.source}).${notes.length ? ` Note: ${notes.join("; ")}.` : ""}`,
      };
    }),
};

export const lockdownCheck: Check = {
  id: "linux.lockdown",
  title: "Kernel lockdown off",
  needs: "target.ssh",
  applies: isLinux,
  run: (d) =>
    withFacts(d, d.linuxFacts, (f): CheckOutcome => {
      if (f.lockdown && f.lockdown !== "none")
        return fromError(netdbgError("E303", { mode: f.lockdown, secureBoot: f.secureBoot }));
      const sb = f.secureBoot === "enabled" ? " Secure Boot is on, but lockdown is not enforced." : "";
      return {
        status: "ok",
        message:
          f.lockdown === null ? `The kernel has no lockdown LSM (Secure Boot: ${f.secureBoot}).` : `Lockdown is [none].${sb}`,
      };
    }),
};

export const headersCheck: Check = {
  id: "linux.headers",
  title: "Kernel headers and toolchain to build kgdboe",
  needs: "target.ssh",
  applies: isLinux,
  run: (d) =>
    withFacts(d, d.linuxFacts, (f): CheckOutcome => {
      const deps = depsInstall(f);
      if (!deps.missing.length) return { status: "ok", message: `Headers for ${f.kernel.release}, gcc and make are installed.` };
      const e = deps.install
        ? netdbgError("E304", { release: f.kernel.release, missing: deps.missing, install: deps.install })
        : netdbgError("E305", { distro: f.os.pretty, missing: deps.missing });
      // kgdboe already built and loaded: rebuilding is the only thing that needs them
      return fromError(e, f.state.loaded ? "warn" : "fail");
    }),
};

/**
 * The same verdict setup reaches (plan.ts refuseWithoutPollController): can upstream kgdboe receive on the NIC
 * it would use while the kernel is stopped? A warning, not a failure: the bundled module works either way.
 */
export const pollControllerCheck: Check = {
  id: "linux.poll-controller",
  title: "NIC driver has a poll controller (upstream kgdboe)",
  applies: isLinux,
  run: (d) =>
    withFacts(d, d.linuxFacts, (f): CheckOutcome => {
      let nic: ReturnType<typeof pickNic>;
      try {
        nic = pickNic(f); // E306/E307: setup's own codes
        refuseWithoutPollController(f, nic, { kind: "git", url: "upstream" });
      } catch (e) {
        if (isNetdbgError(e)) return fromError(e, "warn");
        throw e;
      }
      const v = pollVerdict(nic.driver, f.pollCtl);
      if (v.hasPoll === undefined)
        return {
          status: "warn",
          message: `netdbg cannot tell whether '${nic.driver}' (${nic.name}) has a poll controller; upstream kgdboe needs one.`,
          fix: "Use --kgdboe-source bundled (netdbg's module polls the NIC itself), or a NIC on e1000, e1000e, igb, r8169 or pcnet32.",
        };
      return {
        status: "ok",
        message: `${nic.name} (${nic.driver}) has a poll controller (${v.how === "kallsyms" ? "its module's symbols" : "reviewed driver table"}): upstream kgdboe can receive on it while the kernel is stopped.`,
      };
    }),
};

export const kgdboeCheck: Check = {
  id: "linux.kgdboe",
  title: "kgdboe loaded and answering",
  needs: "target.ssh",
  after: ["host.firewall"],
  applies: isLinux,
  run: (d) =>
    withFacts(d, d.linuxFacts, async (f): Promise<CheckOutcome> => {
      const t = d.target!;
      if (!f.state.loaded) return fromError(netdbgError("E710", { target: t.name }));
      const expected = t.transport?.targetPort ?? KGDBOE_PORT;
      const loadedPort = f.state.params.udp_port;
      if (loadedPort !== undefined && loadedPort !== "" && Number(loadedPort) !== expected)
        return fromError(netdbgError("E713", { target: t.name, loaded: loadedPort, expected }));
      if (!d.kgdboe) return { status: "warn", message: "kgdboe is loaded; the GDB remote exchange cannot run here." };
      try {
        const a = await d.kgdboe();
        return {
          status: "ok",
          message: `kgdboe answers at ${a.endpoint}: broke in (stop ${a.stop}, ${a.arch}${a.pc ? `, pc ${a.pc}` : ""}), read the registers and detached — the kernel runs on.${a.roundTripMs !== undefined ? ` Round trip ${a.roundTripMs.toFixed(2)} ms.` : ""}`,
        };
      } catch (e) {
        const endpoint = `udp:${t.address}:${expected}`;
        const reason = isNetdbgError(e) ? `${e.message} [${e.code}]` : errorText(e);
        return fromError(netdbgError("E711", { target: t.name, endpoint, reason }));
      }
    }),
};
