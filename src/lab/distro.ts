/**
 * Which Debian the lab is built on, and so which suite it debootstraps and which kernel source it compiles:
 * Debian 12 "bookworm" ships linux-source-6.1, Debian 13 "trixie" linux-source-6.12
 * (https://packages.debian.org/bookworm/linux-source-6.1, https://packages.debian.org/trixie/linux-source-6.12).
 * The suite is the host's own (VERSION_CODENAME in /etc/os-release, os-release(5)), so the host's apt mirror serves
 * it. The kernel source is the suite's own series when apt has it (installed, or a candidate in `apt-cache policy`),
 * otherwise the other supported series the machine's apt offers — bookworm-security also carries
 * linux-source-6.12 — and NETDBG_LAB_KERNEL_SOURCE picks one explicitly. templates/lab/kgdb.config is written to
 * work for both series.
 */
import { netdbgError } from "../core/error.js";
import type { LabDeps } from "./ports.js";

export const LAB_SUITES = ["bookworm", "trixie"] as const;
export type LabSuite = (typeof LAB_SUITES)[number];

/** Each suite's own kernel source package (first) and the others the lab accepts, in order of preference. */
export const KERNEL_SOURCES: Readonly<Record<LabSuite, readonly string[]>> = {
  bookworm: ["linux-source-6.1", "linux-source-6.12"],
  trixie: ["linux-source-6.12"],
};

export interface LabDistro {
  suite: LabSuite;
  /** The kernel source package, e.g. linux-source-6.1. */
  kernelSource: string;
  /** Its tarball, /usr/src/<package>.tar.xz (where Debian's linux-source-* packages put it). */
  tarball: string;
  /** Installed already (otherwise the preflight names it to install). */
  installed: boolean;
}

/** VERSION_CODENAME from os-release text (os-release(5): KEY=value, value optionally quoted). */
export function osCodename(osRelease: string): string | undefined {
  const m = /^VERSION_CODENAME=(["']?)([^"'\n]*)\1\s*$/m.exec(osRelease);
  return m?.[2] || undefined;
}

/** `apt-cache policy <pkg>` has a candidate ("Candidate: (none)" or no output: it does not). */
export function aptCandidate(policy: string): string | undefined {
  const m = /^\s*Candidate:\s*(\S+)\s*$/m.exec(policy);
  return m?.[1] && m[1] !== "(none)" ? m[1] : undefined;
}

export async function labDistro(deps: LabDeps, env: NodeJS.ProcessEnv = process.env): Promise<LabDistro> {
  const osRelease = (await deps.fs.exists("/etc/os-release")) ? await deps.fs.readText("/etc/os-release") : "";
  const codename = osCodename(osRelease);
  if (!codename || !(LAB_SUITES as readonly string[]).includes(codename)) {
    throw netdbgError("E600", {
      reason: `the lab builds on Debian 12 (bookworm) or 13 (trixie); /etc/os-release says VERSION_CODENAME=${codename ?? "(none)"}`,
    });
  }
  const suite = codename as LabSuite;
  const accepted = KERNEL_SOURCES[suite];
  const pick = (pkg: string, installed: boolean): LabDistro => ({
    suite,
    kernelSource: pkg,
    tarball: `/usr/src/${pkg}.tar.xz`,
    installed,
  });
  const isInstalled = async (pkg: string) => {
    const r = await deps.runner.run("dpkg-query", ["-W", "-f=$" + "{db:Status-Abbrev}", pkg]);
    return r.exitCode === 0 && r.stdout.startsWith("ii");
  };
  const forced = env.NETDBG_LAB_KERNEL_SOURCE;
  if (forced) {
    if (!accepted.includes(forced)) {
      throw netdbgError("E600", {
        reason: `NETDBG_LAB_KERNEL_SOURCE=${forced} is not one the lab builds on ${suite} (${accepted.join(", ")})`,
      });
    }
    return pick(forced, await isInstalled(forced));
  }
  for (const pkg of accepted) if (await isInstalled(pkg)) return pick(pkg, true);
  for (const pkg of accepted) {
    const r = await deps.runner.run("apt-cache", ["policy", pkg]);
    if (r.exitCode === 0 && aptCandidate(r.stdout)) return pick(pkg, false);
  }
  // nothing offered: name the suite's own package, so the preflight's "apt-get install" says what is missing
  return pick(accepted[0]!, false);
}
