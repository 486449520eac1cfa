/** Cheap checks before the lab touches anything: Debian host, root, the packages a step needs. */
import { netdbgError } from "../core/error.js";
import type { LabDeps } from "./ports.js";
import { KERNEL_BUILD_PACKAGES, TOOL_PACKAGES } from "./spec.js";

/**
 * Installed packages among `packages`, from `dpkg-query -W -f '${Package} ${db:Status-Abbrev}\n'`
 * (dpkg-query(1); "ii " = installed). Names dpkg does not know are simply absent from the output.
 */
export function parseInstalled(output: string): Set<string> {
  const out = new Set<string>();
  for (const line of output.split("\n")) {
    const [name, status] = line.trim().split(/\s+/);
    if (name && status?.startsWith("ii")) out.add(name.replace(/:[a-z0-9]+$/, ""));
  }
  return out;
}

export async function checkDebian(deps: LabDeps): Promise<void> {
  if (!(await deps.fs.exists("/etc/debian_version"))) throw netdbgError("E600", { reason: "/etc/debian_version does not exist" });
  const r = await deps.runner.run("dpkg-query", ["--version"]);
  if (r.exitCode !== 0) throw netdbgError("E600", { reason: "dpkg-query cannot be run" });
}

/** Throws NETDBG-E601 naming every missing program with its apt package. */
export async function checkTools(deps: LabDeps, tools: readonly string[], libraries: readonly string[] = []): Promise<void> {
  const wanted = new Map<string, string>(); // package -> what needs it
  for (const t of tools) wanted.set(TOOL_PACKAGES[t] ?? t, t);
  for (const l of libraries) wanted.set(l, l);
  const r = await deps.runner.run("dpkg-query", [
    "-W",
    "-f=$" + "{Package} $" + "{db:Status-Abbrev}\n" /* dpkg-query format fields */,
    ...wanted.keys(),
  ]);
  const installed = parseInstalled(r.stdout);
  const missing = [...wanted].filter(([pkg]) => !installed.has(pkg));
  if (missing.length === 0) return;
  throw netdbgError("E601", {
    missing: missing.map(([pkg, what]) => (pkg === what ? pkg : `${what} (package ${pkg})`)).join(", "),
    packages: missing.map(([pkg]) => pkg).join(" "),
  });
}

export { KERNEL_BUILD_PACKAGES };
