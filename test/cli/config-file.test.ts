/**
 * `--config <file>` values are checked against the option they fill: a flag takes true or false, an option
 * with a value text or a number. Before, any YAML value went in as is: `reboot: no` (the string "no" in
 * YAML 1.2) switched --reboot ON, `kdnic: "false"` left NO_KDNIC's flag on, `nic: [a, b]` reached setup as a list.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, describe, expect, it } from "vitest";
import { applyConfigFile } from "../../src/cli/config-file.js";

const dir = mkdtempSync(join(tmpdir(), "netdbg-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function program(): { root: Command; setup: Command } {
  const root = new Command("netdbg").option("--json");
  const setup = root
    .command("setup")
    .option("--reboot")
    .option("--no-kdnic")
    .option("--nic <name>")
    .option("--port <port>")
    .argument("[names...]");
  return { root, setup };
}

function apply(yaml: string): Record<string, unknown> {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  const { root, setup } = program();
  applyConfigFile(file, root, setup);
  return setup.opts();
}

const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e as { code?: string; message?: string };
  }
  return undefined;
};

describe("--config values", () => {
  it("fill flags with booleans and value options with text (numbers as text)", () => {
    expect(apply("reboot: true\nkdnic: false\nsetup:\n  nic: Ethernet\n  port: 50001\n")).toEqual({
      reboot: true,
      kdnic: false,
      nic: "Ethernet",
      port: "50001",
    });
  });

  it("a flag given anything but true/false is E012, not switched on", () => {
    for (const yaml of ["reboot: no\n", 'reboot: "false"\n', "kdnic: 0\n", "setup:\n  reboot: yes\n"]) {
      const e = codeOf(() => apply(yaml));
      expect(e?.code, yaml).toBe("NETDBG-E012");
      expect(e?.message).toMatch(/'(reboot|kdnic)' is a flag: give true or false/);
    }
  });

  it("an option with a value given a list, a mapping or nothing is E012", () => {
    for (const yaml of ["nic: [a, b]\n", "nic: { a: 1 }\n", "port:\n", "nic: true\n"]) {
      const e = codeOf(() => apply(yaml));
      expect(e?.code, yaml).toBe("NETDBG-E012");
      expect(e?.message).toMatch(/'(nic|port)' takes a value/);
    }
  });
});
