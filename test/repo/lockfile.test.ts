/**
 * The committed lockfile is complete: every optional dependency that a locked package declares (the other
 * platforms' prebuilt binaries, such as @biomejs/cli-win32-x64) has its own entry. An npm that leaves them out
 * writes a lockfile that `npm ci` on another machine refuses ("Missing: … from lock file").
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

interface LockEntry {
  version?: string;
  optionalDependencies?: Record<string, string>;
}
const lock = JSON.parse(readFileSync(new URL("../../package-lock.json", import.meta.url), "utf8")) as {
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
};

/** Node's lookup from the package at `from`: its own node_modules, then each enclosing one up to the root. */
function resolveInLock(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = dir === "" ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (dir === "") return undefined;
    const cut = dir.lastIndexOf("/node_modules/");
    dir = cut < 0 ? "" : dir.slice(0, cut);
  }
}

function missingOptionals(packages: Record<string, LockEntry>): string[] {
  const missing: string[] = [];
  for (const [path, entry] of Object.entries(packages)) {
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) {
      if (!resolveInLock(packages, path, dep)) missing.push(`${dep} (optional dependency of ${path || "the root"})`);
    }
  }
  return missing;
}

describe("package-lock.json", () => {
  it("is lockfile version 3", () => {
    expect(lock.lockfileVersion).toBe(3);
  });

  it("has an entry for every optional (platform) package any locked package declares", () => {
    expect(missingOptionals(lock.packages)).toEqual([]);
  });

  it("the check sees a missing platform package", () => {
    const cut = { ...lock.packages };
    const victim = Object.keys(cut).find((k) => k.startsWith("node_modules/@biomejs/cli-win32"));
    expect(victim).toBeDefined();
    delete cut[victim as string];
    expect(missingOptionals(cut).join("\n")).toContain(victim?.replace("node_modules/", ""));
  });

  it("resolves nested before hoisted, as Node does", () => {
    const pk: Record<string, LockEntry> = {
      "node_modules/a": { optionalDependencies: { b: "1" } },
      "node_modules/a/node_modules/c": { optionalDependencies: { b: "1", d: "1" } },
      "node_modules/b": {},
      "node_modules/a/node_modules/c/node_modules/d": {},
    };
    expect(missingOptionals(pk)).toEqual([]);
    expect(resolveInLock(pk, "node_modules/a/node_modules/c", "d")).toBe("node_modules/a/node_modules/c/node_modules/d");
    delete pk["node_modules/a/node_modules/c/node_modules/d"];
    expect(missingOptionals(pk)).toEqual(["d (optional dependency of node_modules/a/node_modules/c)"]);
  });
});
