/**
 * `netdbg --help`, `--version` and a usage error start like a shell tool: they load commander and netdbg's own
 * declarations, never the dependencies a command needs only when it runs (src/cli/commands/lazy.ts). A resolve
 * hook records every module the real CLI loads; no timing here (bench/startup.ts measures the ratio to node).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const BIN = new URL("../../bin/netdbg.js", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "nd-startup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hooks = join(dir, "hooks.mjs");
writeFileSync(
  hooks,
  `export async function resolve(spec, ctx, next) {
  const r = await next(spec, ctx);
  if (r.url.startsWith("file:")) process.stderr.write("ND-LOADED " + r.url + "\\n");
  return r;
}
`,
);
const register = join(dir, "register.mjs");
writeFileSync(register, `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);

/** The packages (under node_modules) and netdbg modules (under dist/) a run of the CLI loaded. */
function loaded(args: string[]): { packages: Set<string>; own: Set<string>; status: number | null } {
  const r = spawnSync(process.execPath, ["--import", register, BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, NETDBG_HOME: dir, NO_COLOR: "1" },
  });
  const urls = r.stderr
    .split("\n")
    .filter((l) => l.startsWith("ND-LOADED "))
    .map((l) => l.slice("ND-LOADED ".length));
  const packages = new Set(
    urls.map((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1]).filter((p): p is string => p !== undefined),
  );
  const own = new Set(urls.map((u) => /\/dist\/(.+)$/.exec(u)?.[1]).filter((p): p is string => p !== undefined));
  return { packages, own, status: r.status };
}

const HEAVY = ["ssh2", "zod", "execa", "listr2", "@inquirer/core", "node-powershell", "yaml", "cli-table3", "ssh-config"];

describe("start-up: what the CLI loads before a command runs", () => {
  it("the resolve hook does see what a command loads (targets list reads the inventory: zod)", () => {
    const r = loaded(["targets", "list"]);
    expect(r.status).toBe(0);
    expect(r.packages.has("zod")).toBe(true);
    expect(r.packages.has("commander")).toBe(true);
  });
  for (const args of [["--help"], ["--version"], ["setup", "--help"], ["no-such-command"]]) {
    it(`netdbg ${args.join(" ")} loads commander and none of ${HEAVY.join(", ")}`, () => {
      const r = loaded(args);
      expect(r.status === 0 || r.status === 2, `exit ${r.status}`).toBe(true);
      expect(r.packages.has("commander")).toBe(true);
      expect([...r.packages].filter((p) => HEAVY.includes(p))).toEqual([]);
      // nor netdbg's own engines, peers, targets or lab code
      expect([...r.own].filter((m) => /^(engine\/(rsp|kdnet)|peers|targets|io\/ssh\.js|lab\/(?!spec))/.test(m))).toEqual([]);
    });
  }
  it("every command's help still lists its options (the declarations are whole)", () => {
    const out = execFileSync(process.execPath, [BIN, "lab", "up", "--help"], { encoding: "utf8" });
    expect(out).toContain("--subnet <cidr>");
    expect(out.replace(/\s+/g, " ")).toMatch(/private link between this machine and the lab \(default 10\./);
  });
});
