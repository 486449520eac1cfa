/** The Ansible inventory mapper against real `ansible-inventory --list` output (test/fixtures/ansible). */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { mapAnsibleInventory, parsePortRange } from "../../src/core/ansible-inventory.js";
import { isNetdbgError } from "../../src/core/error.js";

const fixture = (f: string) => JSON.parse(readFileSync(new URL(`../fixtures/ansible/${f}`, import.meta.url), "utf8")) as unknown;
const ini = fixture("lab.ini.list.json");
const yml = fixture("lab.yml.list.json");

function thrown(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isNetdbgError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error("expected a coded error");
}

describe("mapAnsibleInventory", () => {
  it("maps the targets of one debug host: name, address, ssh, os, netdbg_* fields, groups through child groups", () => {
    const m = mapAnsibleInventory(ini, { debugHost: "dbg1", source: "lab.ini" });
    expect(m.inventory.targets).toEqual([
      {
        name: "lin01",
        os: "linux",
        address: "192.0.2.21",
        ssh: { user: "root", port: 2222, identityFile: "~/.ssh/id_lab" },
        groups: ["kernel_lab", "linux_targets"],
        transport: { kgdboeSource: "/srv/kgdboe" },
      },
      {
        name: "win01",
        os: "windows",
        address: "192.0.2.11",
        ssh: { user: "Administrator" },
        groups: ["kernel_lab", "win_targets"],
      },
    ]);
    expect(m.otherDebugHosts).toEqual(["lin02", "win02"]);
    expect(m.unassigned).toEqual([]); // dbg2 is a debug host, not a forgotten target
    expect(m.portRange).toEqual({ from: 50100, to: 50139 });
    expect(m.portRangeFrom).toBe("netdbg_port_range");
    expect(m.inventory.portRange).toEqual({ from: 50100, to: 50139 });
  });

  it("the other debug host gets the other targets, with netdbg_port, netdbg_nic, netdbg_host_ip and the default range", () => {
    const m = mapAnsibleInventory(ini, { debugHost: "dbg2", source: "lab.ini" });
    expect(m.inventory.targets.map((t) => [t.name, t.os, t.address, t.port, t.transport])).toEqual([
      ["lin02", "linux", "2001:db8::22", undefined, { hostIp: "2001:db8::1" }],
      ["win02", "windows", "192.0.2.12", 50200, { nic: "Ethernet0" }],
    ]);
    expect(m.portRange).toEqual({ from: 50000, to: 50039 });
    expect(m.portRangeFrom).toBe("default");
  });

  it("the INI and the YAML form of the same inventory map to the same targets", () => {
    for (const h of ["dbg1", "dbg2"]) {
      expect(mapAnsibleInventory(yml, { debugHost: h, source: "y" }).inventory).toEqual(
        mapAnsibleInventory(ini, { debugHost: h, source: "i" }).inventory,
      );
    }
  });

  it("--port-range wins over netdbg_port_range", () => {
    const m = mapAnsibleInventory(ini, { debugHost: "dbg1", source: "x", portRange: { from: 60000, to: 60010 } });
    expect(m.portRange).toEqual({ from: 60000, to: 60010 });
    expect(m.portRangeFrom).toBe("--port-range");
  });

  it("an unknown debug host selects nothing and says where the hosts went", () => {
    const m = mapAnsibleInventory(ini, { debugHost: "elsewhere", source: "x" });
    expect(m.inventory.targets).toEqual([]);
    expect(m.otherDebugHosts).toEqual(["lin01", "lin02", "win01", "win02"]);
  });

  const list = (hostvars: Record<string, Record<string, unknown>>, groups: Record<string, unknown> = {}) => ({
    _meta: { hostvars },
    all: { children: ["ungrouped", ...Object.keys(groups)] },
    ungrouped: { hosts: Object.keys(hostvars) },
    ...groups,
  });

  it("os: netdbg_os first, then winrm/psrp or an ssh PowerShell/cmd shell, else linux", () => {
    const m = mapAnsibleInventory(
      list({
        a: { netdbg_debug_host: "d", netdbg_os: "Windows", ansible_connection: "ssh" },
        b: { netdbg_debug_host: "d", ansible_connection: "psrp" },
        c: { netdbg_debug_host: "d", ansible_shell_type: "cmd" },
        e: { netdbg_debug_host: "d", ansible_connection: "ssh", ansible_shell_type: "sh" },
        f: { netdbg_debug_host: "d", netdbg_os: "linux", ansible_connection: "winrm" },
      }),
      { debugHost: "d", source: "x" },
    );
    expect(m.inventory.targets.map((t) => `${t.name}:${t.os}`)).toEqual([
      "a:windows",
      "b:windows",
      "c:windows",
      "e:linux",
      "f:linux",
    ]);
  });

  it("refuses what netdbg cannot use, naming host, variable and value (E901)", () => {
    const bad = (vars: Record<string, unknown>, name = "h") =>
      thrown(() => mapAnsibleInventory(list({ [name]: { netdbg_debug_host: "d", ...vars } }), { debugHost: "d", source: "inv" }));
    expect(bad({ netdbg_os: "bsd" })).toMatchObject({ code: "NETDBG-E901" });
    expect(bad({ netdbg_os: "bsd" }).message).toContain("netdbg_os = 'bsd'");
    expect(bad({ netdbg_port: 80 }).message).toContain("netdbg_port = '80'");
    expect(bad({ netdbg_port: "fifty" }).message).toContain("netdbg_port");
    expect(bad({ ansible_port: "x" }).message).toContain("ansible_port");
    expect(bad({}, "web server").message).toContain("inventory_hostname");
    expect(bad({ ansible_host: "bad host!" }).message).toContain("ansible_host = 'bad host!'");
    expect(
      thrown(() =>
        mapAnsibleInventory(
          list({ a: { netdbg_debug_host: "d", netdbg_port: 50001 }, b: { netdbg_debug_host: "d", netdbg_port: 50001 } }),
          { debugHost: "d", source: "inv" },
        ),
      ).message,
    ).toContain("netdbg_port");
  });

  it("targets of one debug host that disagree on netdbg_port_range are refused; the debug host's own value settles it", () => {
    const hv = {
      a: { netdbg_debug_host: "d", netdbg_port_range: "50000-50010" },
      b: { netdbg_debug_host: "d", netdbg_port_range: "51000-51010" },
    };
    expect(thrown(() => mapAnsibleInventory(list(hv), { debugHost: "d", source: "inv" })).message).toContain("netdbg_port_range");
    const m = mapAnsibleInventory(list({ ...hv, d: { netdbg_port_range: "52000-52010" } }), { debugHost: "d", source: "inv" });
    expect(m.portRange).toEqual({ from: 52000, to: 52010 });
  });

  it("refuses input that is not a listing (E900)", () => {
    for (const x of [null, [], "text", 5])
      expect(thrown(() => mapAnsibleInventory(x, { debugHost: "d", source: "s" })).code).toBe("NETDBG-E900");
  });
});

describe("parsePortRange", () => {
  it("takes FROM-TO inside 49152–65535", () => {
    expect(parsePortRange("50100-50139", "--port-range")).toEqual({ from: 50100, to: 50139 });
    expect(parsePortRange(" 60000 - 60000 ", "--port-range")).toEqual({ from: 60000, to: 60000 });
  });
  it.each(["", "50000", "50010-50000", "1000-2000", "50000-70000", "a-b", "50000-50010-50020"])("refuses %j (E003)", (r) => {
    expect(thrown(() => parsePortRange(r, "--port-range")).code).toBe("NETDBG-E003");
  });
});
