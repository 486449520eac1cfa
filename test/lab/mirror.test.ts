import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseAptSources, pickMirror } from "../../src/lab/mirror.js";

const here = new URL("./fixtures/", import.meta.url);

describe("apt sources -> debootstrap mirror", () => {
  it("reads this machine's deb822 debian.sources and picks the bookworm main URI, not the security one", () => {
    const text = readFileSync(new URL("debian.sources", here), "utf8");
    const sources = parseAptSources([{ path: "/etc/apt/sources.list.d/debian.sources", text }]);
    expect(sources.length).toBeGreaterThanOrEqual(2);
    const m = pickMirror(sources, "bookworm");
    expect(m).toMatch(/^https?:\/\/[^ ]+\/debian$/);
    expect(m).not.toContain("security");
  });

  it("reads one-line sources.list with options and comments", () => {
    const text = [
      "# deb http://old.example/debian bookworm main",
      "deb-src http://src.example/debian bookworm main",
      "deb [arch=amd64 signed-by=/k.gpg] http://m.example/debian/ bookworm main contrib",
      "deb http://m.example/debian-security bookworm-security main",
    ].join("\n");
    const sources = parseAptSources([{ path: "/etc/apt/sources.list", text }]);
    expect(sources).toHaveLength(2);
    expect(pickMirror(sources, "bookworm")).toBe("http://m.example/debian");
  });

  it("skips disabled deb822 stanzas and deb-src types; returns undefined without a match", () => {
    const text = [
      "Types: deb",
      "URIs: http://off.example/debian",
      "Suites: bookworm",
      "Components: main",
      "Enabled: no",
      "",
      "Types: deb-src",
      "URIs: http://src.example/debian",
      "Suites: bookworm",
      "Components: main",
      "",
      "Types: deb",
      "URIs: http://on.example/debian",
      "Suites: trixie",
      "Components: main",
    ].join("\n");
    const sources = parseAptSources([{ path: "x.sources", text }]);
    expect(pickMirror(sources, "bookworm")).toBeUndefined();
    expect(pickMirror(sources, "trixie")).toBe("http://on.example/debian");
  });
});
