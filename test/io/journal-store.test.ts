/** Damaged journal files are coded errors naming the file and the entry, never "nothing to undo". */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileJournalStore } from "../../src/io/journal-store.js";
import { codeOf } from "../helpers/errors.js";

const entry = {
  key: "linux:module.load",
  step: "linux",
  id: "module.load",
  title: "Load kgdboe",
  where: "target",
  command: "insmod kgdboe.ko",
  undo: "rmmod kgdboe",
  status: "applied",
  startedAt: "2026-12-03T10:00:00.000Z",
};
const journal = (over: Record<string, unknown>) =>
  JSON.stringify({ version: 1, target: "t", facts: {}, entries: [entry], ...over });

describe("FileJournalStore.load", () => {
  it("reads a journal netdbg wrote", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nd-journal-"));
    writeFileSync(join(dir, "t.json"), journal({}));
    expect((await new FileJournalStore(dir).load("t")).entries).toHaveLength(1);
  });

  it.each([
    ["entries:[null]", journal({ entries: [null] }), "entries[0]"],
    ["facts:null", journal({ facts: null }), "facts"],
    ["entries:[{}]", journal({ entries: [{}] }), "entries[0]"],
    ["entries:[5]", journal({ entries: [5] }), "entries[0]"],
    ["an odd status", journal({ entries: [{ ...entry, status: "maybe" }] }), "entries[0].status"],
    ["a 'where' netdbg never writes", journal({ entries: [{ ...entry, where: "elsewhere" }] }), "entries[0].where"],
    ["version 2", journal({ version: 2 }), "version"],
    ["another target's journal", journal({ target: "other" }), "'other'"],
    ["not JSON", "{ entries: ", "not JSON"],
    ["an array", "[]", "the top"],
  ])("%s is NETDBG-E015 naming the file and where", async (_what, text, where) => {
    const dir = mkdtempSync(join(tmpdir(), "nd-journal-"));
    writeFileSync(join(dir, "t.json"), text);
    const e = await codeOf(new FileJournalStore(dir).load("t"));
    expect(e.code).toBe("NETDBG-E015");
    expect(e.exitCode).toBe(3);
    expect(e.message).toContain(join(dir, "t.json"));
    expect(e.message).toContain(where);
  });
});

describe("netdbg teardown on a damaged journal", () => {
  it.each([
    ["entries:[{}]", [{}]],
    ["entries:[5]", [5]],
    ["entries:[null]", [null]],
  ])(
    "%s: exit 3 with NETDBG-E015, never 'nothing to undo'",
    async (_what, entries) => {
      const { runCliSource: runCli, stateDirWith } = await import("../helpers/cli.js");
      const home = stateDirWith([{ name: "t", os: "linux", address: "192.0.2.7" }], "nd-journal-cli-");
      const { mkdirSync } = await import("node:fs");
      mkdirSync(join(home, "state", "journals"), { recursive: true });
      writeFileSync(join(home, "state", "journals", "t.json"), JSON.stringify({ version: 1, target: "t", facts: {}, entries }));
      const r = await runCli(["teardown", "t", "--json"], { env: { NETDBG_HOME: home } });
      expect(r.code).toBe(3);
      expect(JSON.parse(r.stdout).error.code).toBe("NETDBG-E015");
    },
    60_000,
  );
});

describe("an inventory with too many YAML aliases", () => {
  it("is NETDBG-E004 (exit 2) for every command, the file untouched", async () => {
    const { runCliSource: runCli } = await import("../helpers/cli.js");
    const { readFileSync } = await import("node:fs");
    const home = mkdtempSync(join(tmpdir(), "nd-yaml-bomb-"));
    const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++)
      lines.push(
        `${"abcdefghij"[i]}: &${"abcdefghij"[i]} [${Array(10)
          .fill(`*${"abcdefghij"[i - 1]}`)
          .join(", ")}]`,
      );
    lines.push("version: 1", "targets: []");
    const text = `${lines.join("\n")}\n`;
    writeFileSync(join(home, "targets.yaml"), text);
    for (const args of [["targets", "list"], ["setup", "x"], ["doctor"]]) {
      const r = await runCli([...args, "--json"], { env: { NETDBG_HOME: home } });
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(JSON.parse(r.stdout).error.code).toBe("NETDBG-E004");
    }
    expect(readFileSync(join(home, "targets.yaml"), "utf8")).toBe(text);
  }, 60_000);
});
