/**
 * The netdbg.netdbg collection with the real ansible-core (Debian's package, installed by .ci/run): its unit tests,
 * the sanity tests that run offline, ansible-doc, and `ansible-galaxy collection build`. A machine without
 * ansible-core fails here (no silent skip).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../ansible/collections/", import.meta.url));
const COLLECTION = join(ROOT, "ansible_collections", "netdbg", "netdbg");
/** ansible-core's own interpreter (the Debian package installs into the system Python). */
const PYTHON = "/usr/bin/python3";
const env = { ...process.env, ANSIBLE_COLLECTIONS_PATH: ROOT, ANSIBLE_NOCOLOR: "1", PYTHONDONTWRITEBYTECODE: "1" };

/** Sanity tests of ansible-test 2.14 that need no package index (the others install their tools with pip). */
const OFFLINE_SANITY = [
  "action-plugin-docs",
  "compile",
  "empty-init",
  "future-import-boilerplate",
  "ignores",
  "line-endings",
  "metaclass-boilerplate",
  "no-assert",
  "no-basestring",
  "no-dict-iteritems",
  "no-dict-iterkeys",
  "no-dict-itervalues",
  "no-get-exception",
  "no-illegal-filenames",
  "no-main-display",
  "no-smart-quotes",
  "no-unicode-literals",
  "replace-urlopen",
  "shebang",
  "symlinks",
  "use-argspec-type-path",
  "use-compat-six",
];

describe("netdbg.netdbg collection", () => {
  it("its unit tests pass (the modules against captured netdbg --json output)", async () => {
    const r = await run(PYTHON, ["-m", "unittest", "discover", "-s", "tests/unit", "-t", ".", "-v"], {
      cwd: COLLECTION,
      env: { ...env, PYTHONPATH: ROOT },
    });
    // unittest reports on stderr: "Ran N tests" then "OK"
    expect(r.stderr).toMatch(/Ran (\d+) tests/);
    expect(Number(/Ran (\d+) tests/.exec(r.stderr)?.[1])).toBeGreaterThanOrEqual(15);
    expect(r.stderr.trimEnd().endsWith("OK")).toBe(true);
  }, 60_000);

  it("passes ansible-test's offline sanity tests", async () => {
    const args = ["sanity", "--python", "3.11", ...OFFLINE_SANITY.flatMap((t) => ["--test", t])];
    const r = await run("ansible-test", args, { cwd: COLLECTION, env });
    for (const t of OFFLINE_SANITY) expect(r.stdout).toContain(`Running sanity test "${t}"`);
    expect(r.stdout + r.stderr).not.toMatch(/ERROR:/);
  }, 300_000);

  it.each(["setup", "doctor"])(
    "ansible-doc reads netdbg.netdbg.%s, and its documented options are its argument spec",
    async (m) => {
      const r = await run("ansible-doc", ["-t", "module", "--json", `netdbg.netdbg.${m}`], { env });
      const doc = JSON.parse(r.stdout)[`netdbg.netdbg.${m}`] as {
        doc: { options: Record<string, { type?: string; default?: unknown }> };
      };
      expect(doc.doc.options).toBeDefined();
      // the spec as the module builds it, read from Python (what validate-modules compares; that test needs pip)
      const spec = await run(
        PYTHON,
        [
          "-c",
          [
            "import json, sys",
            "from unittest import mock",
            "from ansible.module_utils import basic",
            "seen = {}",
            "def init(self, argument_spec, **kw):",
            "    seen.update(argument_spec); raise SystemExit(0)",
            `mod = __import__('ansible_collections.netdbg.netdbg.plugins.modules.${m}', fromlist=['main'])`,
            "with mock.patch.object(basic.AnsibleModule, '__init__', init):",
            "    try: mod.main()",
            "    except SystemExit: pass",
            "print(json.dumps(seen))",
          ].join("\n"),
        ],
        { env: { ...env, PYTHONPATH: ROOT } },
      );
      const argSpec = JSON.parse(spec.stdout) as Record<string, { type?: string; default?: unknown }>;
      expect(Object.keys(doc.doc.options).sort()).toEqual(Object.keys(argSpec).sort());
      for (const [name, o] of Object.entries(argSpec)) {
        expect(doc.doc.options[name]?.type ?? "str", name).toBe(o.type ?? "str");
        if (o.default !== undefined && !(Array.isArray(o.default) && o.default.length === 0))
          expect(doc.doc.options[name]?.default, name).toEqual(o.default);
      }
    },
    60_000,
  );

  it("builds with ansible-galaxy into a tarball holding both modules and no test output", async () => {
    const out = mkdtempSync(join(tmpdir(), "nd-galaxy-"));
    await run("ansible-galaxy", ["collection", "build", "--output-path", out, COLLECTION], { env });
    const tarball = readdirSync(out).find((f) => f.endsWith(".tar.gz"));
    const galaxy = parse(readFileSync(join(COLLECTION, "galaxy.yml"), "utf8")) as { version: string };
    expect(tarball).toBe(`netdbg-netdbg-${galaxy.version}.tar.gz`);
    const list = (await run("tar", ["-tzf", join(out, tarball as string)])).stdout.split("\n");
    expect(list).toContain("plugins/modules/setup.py");
    expect(list).toContain("plugins/modules/doctor.py");
    expect(list).toContain("plugins/module_utils/netdbg.py");
    expect(list.some((f) => f.includes("tests/output") || f.includes("__pycache__"))).toBe(false);
  }, 120_000);
});
