/**
 * The published package: `npm pack` (scripts off: `npm test` builds dist/ first) gives a tarball with the
 * LICENSE, the docs pages doctor and the errors point at, dist/ with source maps that carry their sources, and
 * a bin that runs. A global `npm install` of the tarball cannot be tested offline here (npm needs each
 * dependency's registry metadata, which the lockfile-driven cache lacks), so the unpacked tarball runs with
 * the repository's node_modules instead.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checks } from "../../src/doctor/index.js";
import { docPath } from "../../src/doctor/types.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Record<string, unknown> & {
  version: string;
  license: string;
};
let dir: string;
let files: string[];
let unpacked: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "netdbg-pack-"));
  const out = execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, npm_config_offline: "true", npm_config_update_notifier: "false" },
  });
  const info = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
  files = info[0]!.files.map((f) => f.path);
  execFileSync("tar", ["-xzf", join(dir, info[0]!.filename), "-C", dir]);
  unpacked = join(dir, "package");
  symlinkSync(join(ROOT, "node_modules"), join(unpacked, "node_modules"), "dir");
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the published package", () => {
  it("names its licence, repository, homepage and bug tracker, and ships the licence text", () => {
    expect(pkg.license).toBe("MIT");
    expect(pkg.repository).toMatchObject({ type: "git", url: expect.stringMatching(/^git\+https:\/\/github\.com\/.+\.git$/) });
    expect(pkg.homepage).toMatch(/^https:\/\//);
    expect(pkg.bugs).toMatchObject({ url: expect.stringMatching(/^https:\/\/.+\/issues$/) });
    expect(files).toContain("LICENSE");
    expect(readFileSync(join(unpacked, "LICENSE"), "utf8")).toMatch(/^MIT License/);
  });

  it("ships every docs page that doctor and the error messages point at", () => {
    for (const c of checks) expect(files).toContain(docPath(c.id));
    const codes = readdirSync(join(ROOT, "docs", "errors")).filter((f) => f.startsWith("NETDBG-E"));
    expect(codes.length).toBeGreaterThan(100);
    for (const f of codes) expect(files).toContain(`docs/errors/${f}`);
    expect(files).toContain("docs/quickstart.md");
    // no tests, no sources of the build, no local state
    expect(files.some((f) => f.startsWith("test/") || f.startsWith("node_modules/"))).toBe(false);
  });

  it("ships source maps that carry their sources, so a stack trace resolves without src/", () => {
    const maps = files.filter((f) => f.endsWith(".js.map"));
    expect(maps.length).toBeGreaterThan(50);
    for (const m of ["dist/cli/main.js.map", "dist/doctor/run.js.map"]) {
      const map = JSON.parse(readFileSync(join(unpacked, m), "utf8")) as { sources: string[]; sourcesContent?: string[] };
      expect(map.sourcesContent?.length).toBe(map.sources.length);
      expect(map.sourcesContent![0]!.length).toBeGreaterThan(100);
    }
  });

  it("runs from the unpacked tarball: --version, and doctor's help", () => {
    const bin = join(unpacked, "bin", "netdbg.js");
    expect(existsSync(bin)).toBe(true);
    expect(execFileSync(process.execPath, [bin, "--version"], { encoding: "utf8" }).trim()).toBe(pkg.version);
    expect(execFileSync(process.execPath, [bin, "doctor", "--help"], { encoding: "utf8" })).toContain("Global Options:");
  });
});
