/**
 * Plan: pure. Facts + config → pre-flight stops (coded errors, nothing changed), warnings, advice, and the
 * ordered Actions, each with the exact command line(s) and the exact undo. Facts: https://github.com/sysprogs/kgdboe
 * at d4b4f22 (kgdboe_main.c parameters, its README's config and CPU notes) and the distributions' kernel-header
 * packages.
 */
import { createHash } from "node:crypto";
import { netdbgError } from "../../core/error.js";
import { shCommand, shQuote } from "../../core/quote.js";
import { KGDBOE_REQUIRED, kconfigEnabled, kconfigValue } from "./kconfig.js";
import {
  BUILT_MARK,
  COMMIT_MARK,
  REMOTE_BASE,
  REMOTE_DIR,
  REMOTE_ENV,
  REMOTE_ENV_DIR,
  REMOTE_LOADER,
  REMOTE_MODULE,
  REMOTE_SRC,
  REMOTE_UNIT,
  SOURCE_MARK,
  UNIT_NAME,
} from "./paths.js";
import { type KgdboeSource, isSafeRelPath, sourceId } from "./source.js";
import { renderTemplate } from "./template.js";
import { planCmdline } from "./cmdline.js";
import { isBundledSource, pollVerdict } from "./pollctl.js";
import type { LinuxAction, LinuxFacts, Nic } from "./types.js";

export interface LinuxTemplates {
  unit: string;
  env: string;
  loader: string;
}

export interface LinuxSetupConfig {
  nic?: string;
  udpPort: number;
  forceSingleCore: 0 | 1;
  installDeps: boolean;
  persist: boolean;
  applyCmdline: boolean;
  source: KgdboeSource;
  templates?: LinuxTemplates;
  /** The change journal shows netdbg loaded the kgdboe that is loaded now. */
  ownsLoadedModule: boolean;
}

export interface LinuxPlan {
  actions: LinuxAction[];
  nic: Nic;
  udpPort: number;
  forceSingleCore: 0 | 1;
  kallsymsAddress: string;
  sourceId: string;
  buildId: string;
  warnings: string[];
  advice: string[];
}

const BAD_FLAGS: Record<string, string> = {
  loopback: "it is the loopback device",
  wireless: "it is a wireless NIC (netpoll cannot drive it)",
  usb: "it is a USB NIC (most cannot be polled by netpoll)",
  enslaved: "it belongs to a bond, bridge or team (netpoll cannot use it; its rx handler is taken)",
  "bridge-port": "it is a bridge port (its rx handler is taken)",
  "bond-slave": "it is a bond slave (its rx handler is taken)",
  bridge: "it is a bridge, not a NIC",
  bond: "it is a bond, not a NIC",
};

function nicProblem(n: Nic): string | undefined {
  for (const f of n.flags) if (BAD_FLAGS[f]) return BAD_FLAGS[f];
  if (!n.ipv4) return "it has no IPv4 address (kgdboe takes the NIC's first IPv4 address)";
  return undefined;
}

const usable = (nics: Nic[]) => nics.filter((n) => !nicProblem(n) && !n.flags.includes("virtual"));

export function pickNic(facts: LinuxFacts, wanted?: string): Nic {
  const candidates = usable(facts.nics).map((n) => n.name);
  if (wanted) {
    const n = facts.nics.find((x) => x.name === wanted);
    if (!n) throw netdbgError("E306", { reason: `the target has no NIC named '${wanted}'`, candidates });
    const p = nicProblem(n);
    if (p) throw netdbgError("E307", { nic: n.name, reason: p, candidates });
    return n;
  }
  if (facts.route) {
    const n = facts.nics.find((x) => x.name === facts.route!.dev);
    if (n && !nicProblem(n)) return n;
    if (n)
      throw netdbgError("E307", {
        nic: n.name,
        reason: `${nicProblem(n)}; it is the NIC that routes to ${facts.route.to}`,
        candidates,
      });
  }
  const u = usable(facts.nics);
  if (u.length === 1) return u[0]!;
  throw netdbgError("E306", {
    reason: u.length
      ? "several NICs could carry kgdboe and none routes to this host"
      : "no NIC is a wired Ethernet NIC with an IPv4 address",
    candidates,
  });
}

/**
 * The major version of gcc the running kernel was built with: CONFIG_GCC_VERSION (e.g. 120200), else the last
 * x.y.z in CONFIG_CC_VERSION_TEXT ("gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0"); undefined for clang or when the
 * config does not say.
 */
export function kernelGccMajor(cfg: LinuxFacts["config"]["cfg"]): number | undefined {
  if (kconfigEnabled(cfg, "CC_IS_CLANG")) return undefined;
  const v = Number(kconfigValue(cfg, "GCC_VERSION"));
  if (Number.isInteger(v) && v >= 10000) return Math.floor(v / 10000);
  const text = kconfigValue(cfg, "CC_VERSION_TEXT") ?? "";
  if (!/gcc/i.test(text)) return undefined;
  const all = [...text.matchAll(/(\d+)\.\d+(?:\.\d+)?/g)];
  const last = all.at(-1)?.[1];
  return last ? Number(last) : undefined;
}

/**
 * The compiler kbuild must run. Kernel headers refuse a gcc of another major version than the kernel's, and
 * Ubuntu's HWE kernels are built with a newer gcc than the release's default (gcc-12 on 22.04 for 6.5/6.8,
 * gcc-14 on 24.04 for 6.14). Debian/Ubuntu and SUSE install versioned compilers side by side as `gcc-N`: when
 * the default gcc is another major, the build gets `CC=gcc-N` (its package installed with the other
 * dependencies when missing). Fedora and Arch build their kernels with the one gcc they ship: a mismatch there
 * is only a warning.
 */
export function buildCompiler(facts: LinuxFacts): { cc?: string; package?: string; warning?: string } {
  const want = kernelGccMajor(facts.config.cfg);
  if (want === undefined) return {};
  const have = facts.tools.gccVersion ? Number.parseInt(facts.tools.gccVersion, 10) : undefined;
  if (have === want) return {};
  const versioned = `gcc-${want}`;
  const family = facts.os.family;
  if (family === "debian" || family === "suse") {
    if (facts.tools.have.includes(versioned)) return { cc: versioned };
    return { cc: versioned, package: family === "debian" ? versioned : `gcc${want}` };
  }
  if (have === undefined) return {};
  return {
    warning: `${facts.kernel.release} was built with gcc ${want} and the target's gcc is ${facts.tools.gccVersion}: if the build fails (E352), install gcc ${want}.`,
  };
}

/** The headers package of exactly the running kernel, per family and kernel flavour. */
function headersPackages(facts: LinuxFacts): string[] {
  const r = facts.kernel.release;
  switch (facts.os.family) {
    case "debian":
      return [`linux-headers-${r}`];
    case "fedora":
      // the provide names the exact uname -r (kernel-devel of another version would build a module insmod refuses)
      return [`kernel-devel-uname-r == ${r}`, "elfutils-libelf-devel"];
    case "suse": {
      // 5.14.21-150500.55.19-default: flavour "default", version 5.14.21-150500.55.19
      const m = /^(.*)-([a-z][a-z0-9_]*)$/.exec(r);
      return m ? [`kernel-${m[2]}-devel=${m[1]}`] : ["kernel-default-devel"];
    }
    case "arch": {
      // 6.6.1-arch1-1 (linux), 6.1.62-1-lts, 6.6.1-zen1-1-zen, 6.6.1-hardened1-1-hardened
      const flavour = /-(lts|zen|hardened|rt|rt-lts)$/.exec(r)?.[1];
      return [flavour ? `linux-${flavour}-headers` : "linux-headers"];
    }
    default:
      return [];
  }
}

/**
 * Packages that provide what is missing, per distro family (each distribution's kernel-headers package): the
 * headers of exactly the running kernel, gcc and make, and the kernel's own gcc where the default one differs. The
 * package index is refreshed first (a fresh cloud image has empty package lists), except on Arch, where
 * `pacman -Sy <pkg>` is a partial upgrade its documentation forbids
 * (https://wiki.archlinux.org/title/System_maintenance#Partial_upgrades_are_unsupported).
 */
export function depsInstall(facts: LinuxFacts): { missing: string[]; install?: string; undo?: string } {
  const r = facts.kernel.release;
  const missing: string[] = [];
  const comp = buildCompiler(facts);
  if (!facts.tools.headers) missing.push(`headers for ${r}`);
  if (!facts.tools.have.includes("gcc")) missing.push("gcc");
  if (!facts.tools.have.includes("make")) missing.push("make");
  if (comp.package) missing.push(`${comp.cc} (the compiler ${r} was built with)`);
  if (!missing.length) return { missing };
  const pkgs = [
    ...(facts.tools.headers ? [] : headersPackages(facts)),
    ...["gcc", "make"].filter((t) => !facts.tools.have.includes(t)),
    ...(comp.package ? [comp.package] : []),
  ];
  switch (facts.os.family) {
    case "debian":
      return {
        missing,
        install: `apt-get update -q && DEBIAN_FRONTEND=noninteractive ${shCommand(["apt-get", "install", "-y", "--no-install-recommends", ...pkgs])}`,
        undo: `DEBIAN_FRONTEND=noninteractive ${shCommand(["apt-get", "remove", "-y", ...pkgs])}`,
      };
    case "fedora":
      return {
        missing,
        install: shCommand(["dnf", "install", "-y", "--refresh", ...pkgs]),
        undo: shCommand(["dnf", "remove", "-y", ...pkgs]),
      };
    case "suse":
      return {
        missing,
        install: `zypper --non-interactive refresh && ${shCommand(["zypper", "--non-interactive", "install", ...pkgs])}`,
        undo: shCommand(["zypper", "--non-interactive", "remove", ...pkgs]),
      };
    case "arch":
      return {
        missing,
        install: shCommand(["pacman", "-S", "--needed", "--noconfirm", ...pkgs]),
        undo: shCommand(["pacman", "-R", "--noconfirm", ...pkgs]),
      };
    default:
      return { missing };
  }
}

const KGDBOC_PARAM = "/sys/module/kgdboc/parameters/kgdboc";

/** Does the kernel command line configure kgdboc (so it holds KGDB again after every boot)? */
export function kgdbocAtBoot(cmdline: string): boolean {
  return /(?:^|\s)kgdboc=\S/.test(cmdline);
}

/** Pre-flight: every stop that must happen before anything changes. */
export function preflight(facts: LinuxFacts, c: LinuxSetupConfig): void {
  const release = facts.kernel.release;
  if (facts.sudo === "missing") throw netdbgError("E314", { user: facts.user.name || String(facts.user.uid) });
  if (!facts.config.source) throw netdbgError("E302", { release });
  const cfg = facts.config.cfg;
  if (!kconfigEnabled(cfg, "KGDB")) throw netdbgError("E300", { release, source: facts.config.source });
  const missing = KGDBOE_REQUIRED.filter((o) => !kconfigEnabled(cfg, o)).map((o) => `CONFIG_${o}`);
  if (missing.length) throw netdbgError("E301", { release, missing });
  if (facts.lockdown && facts.lockdown !== "none")
    throw netdbgError("E303", { mode: facts.lockdown, secureBoot: facts.secureBoot });
  if (!facts.kallsyms.address) throw netdbgError("E308", { kptrRestrict: facts.kallsyms.kptrRestrict });
  if (facts.state.loaded && !c.ownsLoadedModule) throw netdbgError("E312", {});
  // KGDB takes one I/O driver. kgdboc can be released while the kernel runs (a journaled change, below);
  // kgdbdbgp, the EHCI debug-port driver, cannot (it has no runtime parameter): that is a stop.
  const dbgp = /(?:^|\s)kgdbdbgp=(\S*)/.exec(facts.cmdline);
  if (dbgp)
    throw netdbgError("E309", {
      driver: "kgdbdbgp",
      value: dbgp[1] ?? "",
      reason: "it is the EHCI debug-port driver, set on the kernel command line, and cannot be released while the kernel runs",
    });
  if (c.persist && !facts.tools.systemd) throw netdbgError("E355", {});
  if (c.applyCmdline) {
    if (!facts.boot) throw new Error("internal: --apply-cmdline without a boot configuration probe");
    planCmdline(facts.boot, cmdlineParams(facts)); // a bootloader netdbg cannot edit stops here (E356/E357)
  }
  if (c.source.kind === "files") {
    if (!c.source.files.some((f) => f.path === "Makefile" || f.path === "Kbuild"))
      throw netdbgError("E311", { source: c.source.label, reason: "it has no Makefile or Kbuild at its top" });
    const bad = c.source.files.find((f) => !isSafeRelPath(f.path));
    if (bad) throw netdbgError("E311", { source: c.source.label, reason: `it holds an unsafe path '${bad.path}'` });
  }
  const deps = depsInstall(facts);
  if (deps.missing.length && !deps.install)
    throw netdbgError("E305", { distro: facts.os.pretty || "unknown distro", missing: deps.missing });
  if (deps.missing.length && !c.installDeps)
    throw netdbgError("E304", { release, missing: deps.missing, install: deps.install ?? "" });
}

/**
 * Upstream kgdboe receives while stopped only through the driver's ndo_poll_controller (pollctl.ts): on a
 * driver without one it loads, then freezes the target at the first break-in. Refuse before changing anything.
 * netdbg's bundled module polls NAPI itself and is exempt; an unknown driver gets a warning in the plan.
 */
export function refuseWithoutPollController(facts: LinuxFacts, nic: Nic, source: KgdboeSource, forceSingleCore: 0 | 1 = 1): void {
  if (source.kind === "files" && isBundledSource(source.files)) return;
  // force_single_core=0 hooks the driver module; with a built-in driver upstream's failure path leaves the
  // handlers pointing at freed code (sysprogs/kgdboe irq_hook.c, read), so that combination is refused
  const probed = facts.pollCtl?.get(nic.driver.replace(/-/g, "_"));
  if (forceSingleCore === 0 && facts.pollCtl && nic.driver !== "-" && !probed?.module)
    throw netdbgError("E313", {
      option: "--force-single-core",
      value: "0",
      reason: `the NIC driver '${nic.driver}' is built into the kernel, and upstream kgdboe's multi-core mode fails on a built-in driver leaving its handlers pointing at freed code`,
      fix: "Use --force-single-core 1 (the default), or netdbg's bundled module (--kgdboe-source bundled).",
    });
  const v = pollVerdict(nic.driver, facts.pollCtl);
  if (v.hasPoll !== false) return;
  const working = usable(facts.nics)
    .filter((n) => n.name !== nic.name && pollVerdict(n.driver, facts.pollCtl).hasPoll === true)
    .map((n) => `${n.name} (${n.driver})`);
  throw netdbgError("E315", {
    nic: nic.name,
    driver: nic.driver,
    how: v.how === "kallsyms" ? "its module's symbols in /proc/kallsyms have none" : "netdbg's reviewed driver table",
    working,
  });
}

/** Kernel parameters the kernel config calls for (nokaslr, rodata=off: https://docs.kernel.org/process/debugging/kgdb.html), running or not. */
/**
 * Intel IBT is enforced where the CPU has it (`ibt` in /proc/cpuinfo) and the kernel was built with
 * CONFIG_X86_KERNEL_IBT, unless the command line says `ibt=off` (or `ibt=warn`, which only logs). Upstream kgdboe
 * then panics the kernel at its first poll (an indirect call to a function without ENDBR): refuse before any
 * change. The bundled module is not exempt: it calls kallsyms_lookup_name through a pointer too (at load), and
 * objtool seals the ENDBR of functions whose address the kernel never takes.
 */
export function refuseUnderIbt(facts: LinuxFacts, _source: KgdboeSource): void {
  if (!facts.ibtCpu || !kconfigEnabled(facts.config.cfg, "X86_KERNEL_IBT")) return;
  if (/(^|\s)ibt=(off|warn)(\s|$)/.test(facts.cmdline)) return;
  throw netdbgError("E316", { why: "the CPU has IBT and the kernel was built with CONFIG_X86_KERNEL_IBT" });
}

export function cmdlineParams(facts: LinuxFacts): string[] {
  const cfg = facts.config.cfg;
  const out: string[] = [];
  if (kconfigEnabled(cfg, "RANDOMIZE_BASE")) out.push("nokaslr");
  if (kconfigEnabled(cfg, "STRICT_KERNEL_RWX") && facts.kernel.arch !== "x86_64") out.push("rodata=off");
  return out;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

export function planLinuxSetup(facts: LinuxFacts, c: LinuxSetupConfig): LinuxPlan {
  preflight(facts, c);
  const release = facts.kernel.release;
  const cfg = facts.config.cfg;
  const nic = pickNic(facts, c.nic);
  refuseWithoutPollController(facts, nic, c.source, c.forceSingleCore);
  refuseUnderIbt(facts, c.source);
  const warnings: string[] = [];
  const advice: string[] = [];
  const actions: LinuxAction[] = [];
  const kallsymsAddress = facts.kallsyms.address!;
  const sid = sourceId(c.source);
  const buildId = `${sid}@${release}`;

  // ---- deps
  const deps = depsInstall(facts);
  if (deps.install) {
    actions.push({
      id: "deps.install",
      title: `Install ${deps.missing.join(", ")}`,
      where: "target",
      command: deps.install,
      ...(deps.undo ? { undo: deps.undo } : {}),
      exec: { kind: "sh", script: deps.install, timeoutMs: 30 * 60_000, classify: "deps" },
    });
  }

  // ---- work dir
  const mk = `mkdir -p ${REMOTE_DIR}`;
  actions.push({
    id: "workdir.create",
    title: `Create ${REMOTE_DIR}`,
    where: "target",
    command: mk,
    undo: `rm -rf ${REMOTE_DIR}; rmdir ${REMOTE_BASE} 2>/dev/null || true`,
    satisfied: facts.state.workdir,
    exec: { kind: "sh", script: mk },
  });

  // ---- source
  const sourceSatisfied = facts.state.sourceId === sid;
  const mark = `printf '%s\\n' ${shQuote(sid)} > ${SOURCE_MARK}`;
  const srcUndo = `rm -rf ${REMOTE_SRC}`;
  if (c.source.kind === "git") {
    const clone = [
      `rm -rf ${REMOTE_SRC}`,
      shCommand(["git", "clone", "--depth", "1", "--", c.source.url, REMOTE_SRC]),
      `git -C ${REMOTE_SRC} rev-parse HEAD > ${COMMIT_MARK}`,
      mark,
    ].join(" && ");
    actions.push({
      id: "source.fetch",
      title: `Clone kgdboe from ${c.source.url} on the target`,
      where: "target",
      command: clone,
      undo: srcUndo,
      satisfied: sourceSatisfied,
      exec: { kind: "sh", script: clone, timeoutMs: 10 * 60_000 },
    });
  } else {
    const commitLine = c.source.commit ? ` && printf '%s\\n' ${shQuote(c.source.commit)} > ${COMMIT_MARK}` : "";
    if (c.source.kind === "files") {
      const dirs = [...new Set(c.source.files.map((f) => f.path.split("/").slice(0, -1).join("/")).filter(Boolean))].sort();
      const before = [
        `rm -rf ${REMOTE_SRC}`,
        `mkdir -p ${shCommand([REMOTE_SRC, ...dirs.map((d) => `${REMOTE_SRC}/${d}`)])}`,
      ].join(" && ");
      const files = c.source.files.map((f) => ({
        remotePath: `${REMOTE_SRC}/${f.path}`,
        content: f.content,
        ...(f.mode === undefined ? {} : { mode: f.mode }),
      }));
      const after = `${mark}${commitLine}`;
      actions.push({
        id: "source.upload",
        title: `Upload the kgdboe source (${c.source.label}, ${files.length} files) by SFTP`,
        where: "target",
        command: [before, `sftp put ${shCommand(c.source.files.map((f) => f.path))} -> ${REMOTE_SRC}/`, after].join("\n"),
        undo: srcUndo,
        satisfied: sourceSatisfied,
        exec: { kind: "upload", before, files, after },
      });
    } else {
      const tar = `${REMOTE_DIR}/kgdboe-source.tar`;
      const before = `rm -rf ${REMOTE_SRC} && mkdir -p ${REMOTE_SRC}`;
      // an archive with one top directory (as git archives and GitHub tarballs have) is unpacked one level up
      const after = [
        `tar -xf ${tar} -C ${REMOTE_SRC}`,
        `rm -f ${tar}`,
        `if [ ! -e ${REMOTE_SRC}/Makefile ] && [ "$(ls -A ${REMOTE_SRC} | wc -l)" -eq 1 ]; then d=$(ls -A ${REMOTE_SRC}); mv ${REMOTE_SRC}/"$d" ${REMOTE_DIR}/src.tmp && rmdir ${REMOTE_SRC} && mv ${REMOTE_DIR}/src.tmp ${REMOTE_SRC}; fi`,
        `test -e ${REMOTE_SRC}/Makefile`,
        `${mark}${commitLine}`,
      ].join(" && ");
      actions.push({
        id: "source.upload",
        title: `Upload the kgdboe source (${c.source.label}) by SFTP and unpack it`,
        where: "target",
        command: [before, `sftp put ${shQuote(c.source.name)} -> ${tar}`, after].join("\n"),
        undo: srcUndo,
        satisfied: sourceSatisfied,
        exec: { kind: "upload", before, files: [{ remotePath: tar, content: c.source.content }], after },
      });
    }
  }

  // ---- build (with the kernel's own gcc where the default one differs: buildCompiler)
  const compiler = buildCompiler(facts);
  if (compiler.warning) warnings.push(compiler.warning);
  const werror = kconfigEnabled(cfg, "WERROR");
  // flock: a build left running by a cut SSH connection and the rerun's build never share the tree
  const make = shCommand([
    ...(facts.tools.have.includes("flock") ? ["flock", `${REMOTE_DIR}/.build-lock`] : []),
    "make",
    "-C",
    `/lib/modules/${release}/build`,
    `M=${REMOTE_SRC}`,
    ...(compiler.cc ? [`CC=${compiler.cc}`] : []),
    ...(werror ? ["KCFLAGS=-Wno-error"] : []),
    "modules",
  ]);
  const build = `${make} && printf '%s\\n' ${shQuote(buildId)} > ${BUILT_MARK}`;
  const buildSatisfied = sourceSatisfied && facts.state.builtId === buildId;
  actions.push({
    id: "module.build",
    title: `Build kgdboe against ${release} with kbuild`,
    where: "target",
    command: build,
    undo: `rm -f ${BUILT_MARK} ${REMOTE_MODULE}`,
    satisfied: buildSatisfied,
    exec: { kind: "sh", script: build, timeoutMs: 30 * 60_000, classify: "build" },
  });

  // ---- kgdboc: KGDB takes one I/O driver; release it for kgdboe, teardown gives it back
  const kgdboc = facts.kgdboc.trim();
  if (kgdboc) {
    // read back: a write the kernel did not take must stop here (E309), not fail later at insmod (E332)
    const release = `echo > ${KGDBOC_PARAM} && [ -z "$(cat ${KGDBOC_PARAM})" ]`;
    actions.push({
      id: "kgdboc.release",
      title: `Release KGDB from kgdboc (${kgdboc}) for kgdboe`,
      where: "target",
      command: release,
      undo: `printf '%s\\n' ${shQuote(kgdboc)} > ${KGDBOC_PARAM}`,
      exec: { kind: "sh", script: release, classify: "kgdboc" },
    });
    warnings.push(`kgdboc (${kgdboc}) held KGDB; setup releases it for kgdboe and teardown restores it.`);
  }

  // ---- net.core.gro_normal_batch: upstream kgdboe sets it to 1 at load (kgdboe_io_init, so replies are not held
  // back in GRO batches) and never restores it; netdbg makes that change itself, journaled, so teardown puts the
  // old value back after unloading. The bundled module leaves it alone.
  const GRO = "/proc/sys/net/core/gro_normal_batch";
  if (facts.groNormalBatch !== undefined && !(c.source.kind === "files" && isBundledSource(c.source.files))) {
    const set = `printf '%s\\n' 1 > ${GRO}`;
    actions.push({
      id: "net.gro",
      title: `Set net.core.gro_normal_batch to 1 as upstream kgdboe does (it was ${facts.groNormalBatch}; teardown restores it)`,
      where: "target",
      command: set,
      undo: `printf '%s\\n' ${facts.groNormalBatch} > ${GRO}`,
      // a rerun with kgdboe loaded: the journal of the first run holds the value from before
      satisfied: facts.groNormalBatch === 1 && facts.state.loaded,
      exec: { kind: "sh", script: set },
    });
  }

  // ---- load
  const params = {
    device_name: nic.name,
    udp_port: String(c.udpPort),
    kallsyms_lookup_name_address: kallsymsAddress,
    force_single_core: String(c.forceSingleCore),
  };
  const insmod = shCommand(["insmod", REMOTE_MODULE, ...Object.entries(params).map(([k, v]) => `${k}=${v}`)]);
  const p = facts.state.params;
  const loadSatisfied =
    buildSatisfied &&
    facts.state.loaded &&
    p.device_name === nic.name &&
    p.udp_port === String(c.udpPort) &&
    p.force_single_core === String(c.forceSingleCore);
  const reload = facts.state.loaded && !loadSatisfied;
  const otherCpus = facts.cpusOnline.filter((n) => n !== 0);
  const offlines = c.forceSingleCore === 1 && otherCpus.length > 0;
  const unload = "if [ -d /sys/module/kgdboe ]; then rmmod kgdboe; fi";
  const restoreCpus = offlines
    ? ` && for c in ${otherCpus.join(" ")}; do echo 1 > /sys/devices/system/cpu/cpu$c/online; done`
    : "";
  const load = reload ? `rmmod kgdboe && ${insmod}` : insmod;
  actions.push({
    id: "module.load",
    title: `Load kgdboe on ${nic.name}, UDP port ${c.udpPort}`,
    where: "target",
    command: load,
    undo: `${unload}${restoreCpus}`,
    undoData: { nic: nic.name, udpPort: c.udpPort, cpusOnlineBefore: facts.cpusOnline },
    satisfied: loadSatisfied,
    exec: { kind: "sh", script: load, classify: "load", timeoutMs: 120_000 },
  });
  if (offlines)
    warnings.push(
      `force_single_core=1 takes CPU${otherCpus.length > 1 ? "s" : ""} ${otherCpus.join(",")} offline while kgdboe is loaded (the target runs on one CPU; safer breakpoints). Teardown brings ${otherCpus.length > 1 ? "them" : "it"} back. --force-single-core 0 keeps them ${c.source.kind === "files" && isBundledSource(c.source.files) ? "(the bundled module hooks nothing; it needs the NIC driver built as a module)" : "but hooks the NIC driver (riskier; it needs the driver built as a module)"}.`,
    );

  // ---- persist
  if (c.persist) {
    if (!c.templates) throw new Error("internal: --persist without templates");
    const env = renderTemplate(c.templates.env, {
      module: REMOTE_MODULE,
      device_name: nic.name,
      udp_port: String(c.udpPort),
      force_single_core: String(c.forceSingleCore),
      // kgdboc= on the command line takes KGDB again at every boot: the loader releases it before insmod
      release_kgdboc: kgdbocAtBoot(facts.cmdline) ? "1" : "0",
    });
    const unit = renderTemplate(c.templates.unit, {});
    const loader = renderTemplate(c.templates.loader, {});
    const sum = sha256(unit + env + loader);
    const before = `mkdir -p ${REMOTE_ENV_DIR}`;
    actions.push({
      id: "persist.files",
      title: `Install ${UNIT_NAME} (loads kgdboe after network-online at every boot)`,
      where: "target",
      command: [before, `sftp put ${REMOTE_UNIT} ${REMOTE_ENV} ${REMOTE_LOADER}`].join("\n"),
      undo: `rm -f ${REMOTE_UNIT} ${REMOTE_ENV} ${REMOTE_LOADER}; rmdir ${REMOTE_ENV_DIR} 2>/dev/null || true; systemctl daemon-reload`,
      satisfied: facts.state.persistSum === sum,
      exec: {
        kind: "upload",
        before,
        files: [
          { remotePath: REMOTE_UNIT, content: unit, mode: 0o644 },
          { remotePath: REMOTE_ENV, content: env, mode: 0o644 },
          { remotePath: REMOTE_LOADER, content: loader, mode: 0o755 },
        ],
        after: "systemctl daemon-reload",
      },
    });
    const enable = `systemctl enable ${UNIT_NAME}`;
    actions.push({
      id: "persist.enable",
      title: `Enable ${UNIT_NAME}`,
      where: "target",
      command: enable,
      undo: `systemctl disable ${UNIT_NAME}`,
      satisfied: facts.state.unitEnabled && facts.state.persistSum === sum,
      exec: { kind: "sh", script: enable },
    });
  }

  // ---- kernel command line: --apply-cmdline writes it into the boot configuration (next boot); else advice
  const cmd = ` ${facts.cmdline} `;
  const wanted = cmdlineParams(facts);
  if (c.applyCmdline && facts.boot) {
    const a = planCmdline(facts.boot, wanted);
    if (a) actions.push(a);
    const notRunning = wanted.filter((p) => !cmd.includes(` ${p} `));
    if (notRunning.length)
      warnings.push(
        `The kernel command line of the next boot has ${notRunning.join(" ")}; the running kernel does not (it was not touched): reboot the target for it to take effect. Teardown restores the boot configuration (also effective at the next reboot).`,
      );
  } else {
    if (wanted.includes("nokaslr") && !cmd.includes(" nokaslr "))
      advice.push(
        "Add 'nokaslr' to the kernel command line so symbol addresses match vmlinux (else the debugger must compute the KASLR slide); --apply-cmdline does it for the next boot.",
      );
    if (wanted.includes("rodata=off") && !cmd.includes(" rodata=off "))
      advice.push(
        "If software breakpoints fail on this architecture, add 'rodata=off' to the kernel command line (STRICT_KERNEL_RWX); --apply-cmdline does it for the next boot.",
      );
  }
  if ((facts.ibtCpu || kconfigEnabled(cfg, "X86_KERNEL_IBT")) && !/\sibt=(off|warn)\s/.test(cmd))
    warnings.push(
      "This CPU/kernel uses Intel IBT: upstream kgdboe calls a static function through a pointer, so the first debugger poll (not the load) can take a #CP and panic the kernel: boot with 'ibt=off'.",
    );
  if (kconfigEnabled(cfg, "KGDB_KDB"))
    warnings.push("CONFIG_KGDB_KDB=y: the first break may land in kdb; the debugger switches to gdb mode by sending a packet.");
  if (!kconfigEnabled(cfg, "HOTPLUG_CPU") && c.forceSingleCore === 1 && facts.cpusOnline.length > 1)
    warnings.push("CONFIG_HOTPLUG_CPU is off, so single-core mode will fail on this SMP target: boot with maxcpus=1.");
  if (facts.watchdogDevices.length)
    warnings.push(
      `A hardware watchdog (${facts.watchdogDevices.join(", ")}) can reset the target during a long break: stop its user (watchdog daemon, systemd RuntimeWatchdogSec).`,
    );
  if (facts.nmiWatchdog === "1")
    advice.push("Run 'sysctl kernel.nmi_watchdog=0' on the target while debugging (long stops can trip it).");
  if (pollVerdict(nic.driver, facts.pollCtl).hasPoll === undefined)
    warnings.push(
      `netdbg cannot tell whether '${nic.driver}' (${nic.name}) has a poll controller: upstream kgdboe needs one (e1000, e1000e, igb, r8169, pcnet32 have it); without it the first break-in freezes the target.`,
    );
  if (kconfigValue(cfg, "MODULE_SIG_FORCE") === "y" || facts.sigEnforce)
    warnings.push("The kernel enforces module signatures: an unsigned kgdboe will be refused (sign it with a MOK key).");

  return {
    actions,
    nic,
    udpPort: c.udpPort,
    forceSingleCore: c.forceSingleCore,
    kallsymsAddress,
    sourceId: sid,
    buildId,
    warnings,
    advice,
  };
}
