/**
 * Reading Ansible inventories: the `--list` JSON as it is, INI/YAML through the real `ansible-inventory`
 * (Debian's ansible-core, installed by .ci/run), and netdbg's own record beside them.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { netdbgError } from "../../src/core/error.js";
import type { CommandRunner } from "../../src/core/interfaces.js";
import { AnsibleInventoryStore, loadAnsibleList, withPortRange } from "../../src/io/ansible-inventory.js";
import { InventoryStore } from "../../src/io/inventory-store.js";
import { codeOf } from "../helpers/errors.js";

const FIX = fileURLToPath(new URL("../fixtures/ansible/", import.meta.url));
const listJson = readFileSync(join(FIX, "lab.ini.list.json"), "utf8");
const tmp = () => mkdtempSync(join(tmpdir(), "nd-ansible-"));

function hasAnsible(): boolean {
  try {
    execFileSync("ansible-inventory", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("loadAnsibleList", () => {
  it("reads the --list JSON from a file and from standard input as it is", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "list.json"), listJson);
    expect(await loadAnsibleList(join(dir, "list.json"))).toEqual(JSON.parse(listJson));
    expect(await loadAnsibleList("-", { readStdin: async () => listJson })).toEqual(JSON.parse(listJson));
  });

  it("standard input that is not the --list JSON is E900, with the command to pipe", async () => {
    const e = await codeOf(loadAnsibleList("-", { readStdin: async () => "[debug_hosts]\ndbg1\n" }));
    expect(e.code).toBe("NETDBG-E900");
    expect(e.fix).toContain("ansible-inventory -i <inventory> --list");
  });

  it("an INI file without ansible-inventory installed is E902 naming the package", async () => {
    const runner: CommandRunner = {
      run: async (file) => {
        throw netdbgError("E018", { tool: file });
      },
    };
    const e = await codeOf(loadAnsibleList(join(FIX, "lab.ini"), { runner }));
    expect(e.code).toBe("NETDBG-E902");
    expect(e.exitCode).toBe(3);
    expect(e.fix).toContain("ansible-core");
  });

  it("a failing ansible-inventory is E900 with its error", async () => {
    const runner: CommandRunner = { run: async () => ({ stdout: "", stderr: "ERROR! boom here\n", exitCode: 1 }) };
    const e = await codeOf(loadAnsibleList(join(FIX, "lab.ini"), { runner }));
    expect(e.code).toBe("NETDBG-E900");
    expect(e.message).toContain("boom here");
  });

  // CI installs ansible-core (.ci/apt-packages.txt); a machine without it fails here rather than skipping
  it("INI and YAML files go through the real ansible-inventory and give the captured listing", async () => {
    expect(hasAnsible(), "ansible-inventory (Debian package ansible-core) is needed for this test").toBe(true);
    const fromIni = (await loadAnsibleList(join(FIX, "lab.ini"))) as { _meta: unknown };
    expect(fromIni._meta).toEqual(JSON.parse(listJson)._meta);
    const fromYml = (await loadAnsibleList(join(FIX, "lab.yml"))) as { _meta: unknown };
    expect(fromYml._meta).toEqual(JSON.parse(readFileSync(join(FIX, "lab.yml.list.json"), "utf8"))._meta);
  });

  it("a file Ansible cannot parse is E900, not an empty inventory", async () => {
    expect(hasAnsible()).toBe(true);
    const dir = tmp();
    writeFileSync(join(dir, "broken.yml"), "all:\n  hosts: [unclosed\n");
    const e = await codeOf(loadAnsibleList(join(dir, "broken.yml")));
    expect(e.code).toBe("NETDBG-E900");
  });
});

describe("AnsibleInventoryStore", () => {
  const store = (stateDir: string, debugHost = "dbg1", portRange?: string) =>
    new AnsibleInventoryStore({
      source: "-",
      debugHost,
      stateDir,
      readStdin: async () => listJson,
      ...(portRange ? { portRange } : {}),
    });

  it("keeps what netdbg decides (a port) in its own record, never Ansible's fields, and lays it over the mapping", async () => {
    const dir = tmp();
    const s = store(dir);
    await s.update((inv) => {
      const t = inv.targets.find((x) => x.name === "win01");
      if (t) t.port = 50100;
    });
    const record = readFileSync(join(dir, "ansible-overlay.yaml"), "utf8");
    expect(record).toContain("win01");
    expect(record).toContain("50100");
    expect(record).not.toContain("192.0.2.11"); // the address is Ansible's
    expect(record).not.toContain("lin01"); // nothing decided for it
    const again = await store(dir).get("win01");
    expect(again).toMatchObject({ name: "win01", address: "192.0.2.11", port: 50100 });
  });

  it("Ansible wins over the record: a changed ansible_host is seen at once", async () => {
    const dir = tmp();
    writeFileSync(
      join(dir, "ansible-overlay.yaml"),
      "version: 1\ntargets:\n  win01:\n    port: 50101\n    address: 198.51.100.1\n",
    );
    expect(await store(dir).get("win01")).toMatchObject({ address: "192.0.2.11", port: 50101 });
  });

  it("adding or removing targets is refused (E903): the inventory is Ansible's", async () => {
    const dir = tmp();
    const add = await codeOf(
      store(dir).update((inv) => {
        inv.targets.push({ name: "new1", os: "linux", address: "192.0.2.99" });
      }),
    );
    expect(add.code).toBe("NETDBG-E903");
    const rm = await codeOf(
      store(dir).update((inv) => {
        inv.targets.pop();
      }),
    );
    expect(rm.code).toBe("NETDBG-E903");
  });

  it("a target of another debug host is named as such (E903), an unknown name is E005", async () => {
    expect((await codeOf(store(tmp()).get("win02"))).code).toBe("NETDBG-E903");
    expect((await codeOf(store(tmp()).get("nope"))).code).toBe("NETDBG-E005");
  });

  it("--port-range sets the range new ports come from", async () => {
    const inv = await store(tmp(), "dbg2", "60000-60009").load();
    expect(inv.portRange).toEqual({ from: 60000, to: 60009 });
  });
});

describe("withPortRange over netdbg's own inventory", () => {
  it("new ports come from the range; the file keeps no range of its own", async () => {
    const dir = tmp();
    const own = new InventoryStore(join(dir, "targets.yaml"));
    const s = withPortRange(own, { from: 61000, to: 61001 });
    expect((await s.load()).portRange).toEqual({ from: 61000, to: 61001 });
    await s.update((inv) => {
      inv.targets.push({ name: "a", os: "linux", address: "192.0.2.1", port: 61000 });
    });
    const text = readFileSync(join(dir, "targets.yaml"), "utf8");
    expect(text).not.toContain("portRange");
    expect((await own.load()).targets).toHaveLength(1);
  });
});
