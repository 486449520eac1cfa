import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderErrorIndex, renderErrorPages } from "../../src/core/errors/docs.js";

const dir = new URL("../../docs/errors/", import.meta.url);

describe("docs/errors", () => {
  it("has exactly one current page per catalog code (run 'npm run docs' after changing the catalog)", () => {
    const pages = renderErrorPages();
    const onDisk = readdirSync(dir)
      .filter((f) => f.startsWith("NETDBG-E"))
      .sort();
    expect(onDisk).toEqual(pages.map((p) => p.file).sort());
    for (const p of pages) expect(readFileSync(new URL(p.file, dir), "utf8"), p.file).toBe(p.markdown);
    expect(readFileSync(new URL("README.md", dir), "utf8")).toBe(renderErrorIndex(pages));
  });

  it("every page states a message and a fix", () => {
    for (const p of renderErrorPages()) {
      expect(p.markdown).toMatch(/## What netdbg says\n\n> \S/);
      expect(p.markdown).toMatch(/## Fix\n\n> \S/);
    }
  });
});
