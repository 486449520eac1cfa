import { runOnTerminal } from "../../io/command-runner.js";
import { Listr, PRESET_TIMER } from "listr2";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { netdbgError } from "../../core/error.js";
import type { Target } from "../../core/inventory.js";
import { systemClock } from "../../core/interfaces.js";
import { ExecaCommandRunner } from "../../io/command-runner.js";
import {
  type Artifact,
  type ArtifactKind,
  buildImage,
  buildKernel,
  buildRootfs,
  checkDebian,
  checkTools,
  KERNEL_BUILD_PACKAGES,
  LAB_NICS,
  LAB_VARIANTS,
  type LabNic,
  type LabArtifacts,
  type LabDeps,
  type LabFs,
  type LabNames,
  type LabPaths,
  type LabState,
  type LabVariant,
  labBreak,
  labDown,
  labNames,
  labUp,
  liveState,
  MAX_INSTANCE,
  parseLabSubnet,
  planArtifacts,
  sshArgv,
  staleArtifacts,
  TOOLS_IMAGE,
  TOOLS_KERNEL,
  TOOLS_ROOTFS,
  TOOLS_UP,
} from "../../lab/index.js";
import type { Context } from "../context.js";
import { BUNDLED_KGDBOE_SOURCE } from "../../io/kgdboe-source.js";

/** node:fs behind the lab's LabFs port. */
const nodeFs: LabFs = {
  readText: (p) => readFile(p, "utf8"),
  writeText: async (p, content, mode = 0o644) => {
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, content, { mode });
  },
  exists: async (p) => {
    try {
      await stat(p);
      return true;
    } catch {
      return false;
    }
  },
  mkdirp: async (p) => {
    await mkdir(p, { recursive: true });
  },
  remove: (p) => rm(p, { recursive: true, force: true }),
  rename: (a, b) => rename(a, b),
  list: async (p) => readdir(p).catch(() => []),
};

function templatesDir(): string {
  // dist/cli/commands/lab.js and src/cli/commands/lab.ts both sit three levels below the package root.
  const dir = fileURLToPath(new URL("../../../templates/lab", import.meta.url));
  if (!existsSync(join(dir, "kgdb.config"))) throw new Error(`netdbg's lab templates are missing (${dir})`);
  return dir;
}

function labContext(c: Context): { deps: LabDeps; paths: LabPaths } {
  return {
    deps: { runner: new ExecaCommandRunner(), fs: nodeFs, clock: systemClock, log: c.log },
    paths: {
      cache: join(c.paths.cache, "lab"),
      state: join(c.paths.state, "lab"),
      templates: templatesDir(),
      node: process.execPath,
    },
  };
}

async function preflight(deps: LabDeps, tools: string[], libs: readonly string[] = []): Promise<void> {
  await checkDebian(deps);
  if (process.getuid?.() !== 0) throw netdbgError("E609", {});
  await checkTools(deps, tools, libs);
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface BuildReport {
  kind: ArtifactKind;
  key: string;
  dir: string;
  cached: boolean;
  seconds: number;
}

/** Build (or reuse) the three artifacts with listr2 progress; returns their outputs and a per-stage report. */
async function ensureArtifacts(
  c: Context,
  deps: LabDeps,
  paths: LabPaths,
  jobs: number,
): Promise<{ art: LabArtifacts; report: BuildReport[] }> {
  const plan = await planArtifacts(deps, paths);
  const need: string[] = [];
  const libs: string[] = [];
  if (!plan.kernel.cached) {
    need.push(...TOOLS_KERNEL);
    libs.push(...KERNEL_BUILD_PACKAGES, plan.kernel.distro.kernelSource);
  }
  if (!plan.rootfs.cached) need.push(...TOOLS_ROOTFS);
  if (!plan.image.cached) need.push(...TOOLS_IMAGE);
  await preflight(deps, need, libs);
  await nodeFs.mkdirp(paths.cache);
  const report: BuildReport[] = [];
  const art: Partial<LabArtifacts> = {};
  const title = (a: Artifact, what: string) => `${what} [${a.kind}-${a.key}] ${a.cached ? "cached" : "building"}`;
  const timed = async <T>(a: Artifact, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    const r = await fn();
    report.push({ kind: a.kind, key: a.key, dir: a.dir, cached: a.cached, seconds: (Date.now() - t0) / 1000 });
    return r;
  };
  const tasks = new Listr(
    [
      {
        // The kernel compile is CPU-bound, debootstrap mostly waits on the mirror and dpkg: run them side by side.
        title: "kernel and root file system",
        task: (_: unknown, group) =>
          group.newListr(
            [
              {
                title: title(plan.kernel, `KGDB kernel (${plan.kernel.distro.kernelSource} + templates/lab/kgdb.config)`),
                task: async (_: unknown, t) => {
                  art.kernel = await timed(plan.kernel, () =>
                    buildKernel(deps, paths, plan.kernel, { jobs, progress: (l) => (t.output = l) }),
                  );
                },
              },
              {
                title: title(plan.rootfs, "Debian bookworm root file system (debootstrap)"),
                task: async (_: unknown, t) => {
                  art.rootfs = await timed(plan.rootfs, () =>
                    buildRootfs(deps, plan.rootfs, { progress: (l) => (t.output = l) }),
                  );
                },
              },
            ],
            { concurrent: true, exitOnError: true },
          ),
      },
      {
        title: title(plan.image, "disk image (rootfs + KGDB kernel and headers)"),
        task: async (_: unknown, t) => {
          art.image = await timed(plan.image, () =>
            buildImage(deps, plan.image, art.kernel!, art.rootfs!, { progress: (l) => (t.output = l) }),
          );
        },
      },
    ],
    {
      concurrent: false,
      exitOnError: true,
      renderer: c.opts.json ? "silent" : "default",
      fallbackRenderer: c.opts.json ? "silent" : "simple",
      rendererOptions: { timer: PRESET_TIMER, collapseSubtasks: false },
      fallbackRendererOptions: { timer: PRESET_TIMER },
    },
  );
  await tasks.run();
  return { art: art as LabArtifacts, report };
}

function printBuildReport(c: Context, report: BuildReport[]): void {
  for (const r of report)
    c.out(`${r.kind.padEnd(6)} ${r.cached ? "cached " : "rebuilt"} ${fmt(r.seconds * 1000).padStart(8)}  ${r.dir}`);
}

function parseInstance(value: string | undefined): LabNames {
  const raw = value ?? process.env.NETDBG_LAB_INSTANCE ?? "0";
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > MAX_INSTANCE) {
    throw netdbgError("E607", { option: "--instance", value: raw, expected: `a whole number 0–${MAX_INSTANCE}` });
  }
  return labNames(n);
}

function parseUpOptions(o: { variant?: string; smp?: string; nic?: string; subnet?: string; instance?: string }) {
  const variant = (o.variant ?? "kgdb") as LabVariant;
  if (!LAB_VARIANTS.includes(variant))
    throw netdbgError("E607", { option: "--variant", value: String(o.variant), expected: LAB_VARIANTS.join(" or ") });
  const smpText = (o.smp ?? "1").trim();
  // whole digits only: Number() took '0x2' and '1e0'
  const smp = /^\d+$/.test(smpText) ? Number(smpText) : 0;
  if (smp < 1 || smp > 8) throw netdbgError("E607", { option: "--smp", value: String(o.smp), expected: "a whole number 1–8" });
  const nic = (o.nic ?? "e1000") as LabNic;
  if (!LAB_NICS.includes(nic))
    throw netdbgError("E607", { option: "--nic", value: String(o.nic), expected: LAB_NICS.join(" or ") });
  const names = parseInstance(o.instance);
  const subnet = parseLabSubnet(o.subnet ?? names.defaultSubnet);
  if (!subnet)
    throw netdbgError("E607", { option: "--subnet", value: String(o.subnet), expected: "a private IPv4 network a.b.c.d/24–30" });
  return { variant, smp, nic, subnet, names };
}

function labTarget(s: LabState): Target {
  return {
    name: "lab",
    os: "linux",
    address: s.endpoints.ssh.host,
    ssh: {
      user: s.endpoints.ssh.user,
      port: s.endpoints.ssh.port,
      identityFile: s.endpoints.ssh.identityFile,
      knownHostsFile: s.knownHosts,
    },
    // `netdbg setup lab` loads kgdboe on targetPort; `connect lab` talks to it with the lab kernel's symbols.
    // (kgdboc on the second serial port, wired to UDP, answers before setup: connect --endpoint <kgdboc>
    // --break-in sysrq-ssh.)
    transport: {
      targetPort: s.endpoints.kgdboe.port,
      nic: "eth0",
      hostIp: s.hostAddress,
      ...(s.endpoints.vmlinux ? { vmlinux: s.endpoints.vmlinux } : {}),
      // the lab has no internet: setup builds the kgdboe-compatible module shipped with netdbg
      kgdboeSource: BUNDLED_KGDBOE_SOURCE,
    },
    note: `netdbg lab (${s.endpoints.variant} kernel ${s.endpoints.kernelRelease}); managed by 'netdbg lab up'`,
  };
}

function printEndpoints(c: Context, s: LabState): void {
  const e = s.endpoints;
  if (c.opts.json) {
    c.json(e);
    return;
  }
  c.out(
    `lab: ${e.variant} kernel ${e.kernelRelease} at ${e.ssh.host} (${s.accel.toUpperCase()}, ${s.smp} CPU, ${s.nic ?? "e1000"} NIC)`,
  );
  c.out(`  ssh      ssh -i ${e.ssh.identityFile} ${e.ssh.user}@${e.ssh.host}   (or: netdbg lab ssh)`);
  c.out(
    `  kgdboc   gdb ${e.vmlinux ?? "vmlinux"} -ex 'target remote udp:${e.kgdboc.host}:${e.kgdboc.port}'   (break in: netdbg lab break)`,
  );
  c.out(`  kgdboe   udp ${e.kgdboe.host}:${e.kgdboe.port} -> guest eth0:${e.kgdboe.port}`);
  c.out(`  vmlinux  ${e.vmlinux ?? "(none: the stock Debian kernel ships symbols only in its -dbg package)"}`);
  c.out(`  target   'lab' in the inventory: netdbg setup lab`);
}

/** `--jobs <n>`: parallel compile jobs, a whole number from 1 (before: 'abc' or '-4' quietly became 1). */
export function parseJobs(raw: string): number {
  const text = raw.trim();
  const n = /^\d+$/.test(text) ? Number(text) : 0;
  if (n < 1 || n > 1024) throw netdbgError("E607", { option: "--jobs", value: raw, expected: "a whole number 1–1024" });
  return n;
}

export async function labBuildCommand(c: Context, o: { jobs: string; prune?: boolean }): Promise<void> {
  const jobs = parseJobs(o.jobs);
  const { deps, paths } = labContext(c);
  const { report } = await ensureArtifacts(c, deps, paths, jobs);
  const stale = await staleArtifacts(deps, paths, await planArtifacts(deps, paths));
  if (o.prune) {
    const live = await liveState(deps, paths); // it may be running from files that look stale now
    if (live) throw netdbgError("E603", { variant: live.endpoints.variant, address: live.endpoints.ssh.host });
    for (const d of stale) await nodeFs.remove(d);
  }
  if (c.opts.json) {
    c.json({ artifacts: report, stale: o.prune ? [] : stale, removed: o.prune ? stale : [] });
    return;
  }
  printBuildReport(c, report);
  for (const d of stale)
    c.out(`stale  ${o.prune ? "removed" : "kept   "}           ${d}${o.prune ? "" : "   (netdbg lab build --prune)"}`);
}

export async function labUpCommand(
  c: Context,
  o: { variant?: string; smp?: string; nic?: string; subnet?: string; instance?: string },
): Promise<void> {
  const opts = parseUpOptions(o);
  const { deps, paths } = labContext(c);
  await preflight(deps, TOOLS_UP);
  const running = await liveState(deps, paths);
  if (running) throw netdbgError("E603", { variant: running.endpoints.variant, address: running.endpoints.ssh.host });
  const { art, report } = await ensureArtifacts(c, deps, paths, availableParallelism());
  printBuildReport(c, report);
  let state: LabState | undefined;
  const t0 = Date.now();
  await new Listr(
    [
      {
        title: `boot the ${opts.variant} lab at ${opts.subnet.labAddress}`,
        task: async (_: unknown, t) => {
          state = await labUp(deps, paths, art, { ...opts, progress: (l) => (t.output = l) });
        },
      },
    ],
    {
      renderer: c.opts.json ? "silent" : "default",
      fallbackRenderer: c.opts.json ? "silent" : "simple",
      rendererOptions: { timer: PRESET_TIMER },
      fallbackRendererOptions: { timer: PRESET_TIMER },
    },
  ).run();
  if (!state) throw new Error("lab up finished without a state");
  const s = state;
  await c.inventory.update((inv) => {
    inv.targets = [...inv.targets.filter((t) => t.name !== "lab"), labTarget(s)];
  });
  c.log.info(`lab: up in ${fmt(Date.now() - t0)} (ssh ready ${s.bootSeconds} s after QEMU started)`);
  printEndpoints(c, s);
}

export async function labStatusCommand(c: Context): Promise<void> {
  const { deps, paths } = labContext(c);
  const s = await liveState(deps, paths);
  if (!s) throw netdbgError("E604", {});
  printEndpoints(c, s);
}

export async function labSshCommand(c: Context, command: string[]): Promise<void> {
  const { deps, paths } = labContext(c);
  const s = await liveState(deps, paths);
  if (!s) throw netdbgError("E604", {});
  // Like ssh(1): the words are joined with spaces and run by the guest's shell.
  process.exitCode = await runOnTerminal(
    "ssh",
    sshArgv(s, command.length > 0 ? command.join(" ") : undefined, command.length > 0 ? [] : ["-t"]),
  );
}

export async function labBreakCommand(c: Context): Promise<void> {
  const { deps, paths } = labContext(c);
  await preflight(deps, ["socat"]);
  await labBreak(deps, paths);
  c.out("sent SysRq-g: the kernel waits for gdb on the kgdboc endpoint ('netdbg lab status')");
}

export async function labDownCommand(c: Context, o: { instance?: string }): Promise<void> {
  const { deps, paths } = labContext(c);
  if (process.getuid?.() !== 0) throw netdbgError("E609", {});
  const stopped = await labDown(deps, paths, parseInstance(o.instance));
  if (c.opts.json) c.json({ stopped });
  else c.out(stopped.length > 0 ? `stopped: ${stopped.join(", ")}` : "the lab was not running; nothing to stop");
}
