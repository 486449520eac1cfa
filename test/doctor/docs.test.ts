/** Every registered doctor check has its page under docs/doctor/, the index lists it, and no page is orphaned. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checks } from "../../src/doctor/index.js";
import { runChecks } from "../../src/doctor/run.js";
import { docPath } from "../../src/doctor/types.js";

const root = new URL("../../", import.meta.url);
const dir = new URL("docs/doctor/", root);

describe("docs/doctor", () => {
  it("has one page per registered check, titled with its id, with the three sections", () => {
    for (const c of checks) {
      const file = new URL(docPath(c.id), root);
      expect(existsSync(file), `${docPath(c.id)} is missing`).toBe(true);
      const md = readFileSync(file, "utf8");
      expect(md.split("\n")[0]).toBe(`# \`${c.id}\` — ${c.title}`);
      for (const h of ["## What it checks", "## Why it matters", "## Verdicts and fixes"]) expect(md).toContain(h);
    }
  });

  it("has no orphaned page, and the index links every check", () => {
    const ids = new Set(checks.map((c) => c.id));
    const pages = readdirSync(dir).filter((f) => f.endsWith(".md") && f !== "README.md");
    expect(pages.filter((p) => !ids.has(p.slice(0, -3)))).toEqual([]);
    const index = readFileSync(new URL("README.md", dir), "utf8");
    for (const id of ids) expect(index).toContain(`(${id}.md)`);
  });

  it("every result links its page in the doc field", async () => {
    const results = await runChecks({});
    expect(results.length).toBe(checks.length);
    for (const r of results) expect(r.doc).toBe(docPath(r.id));
  });
});
