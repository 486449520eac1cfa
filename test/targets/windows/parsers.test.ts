import { describe, expect, it } from "vitest";
import {
  classifyBcdeditFailure,
  parseBcdEnum,
  parseCopyResult,
  parseDbgSettings,
  parseKdnetList,
} from "../../../src/targets/windows/index.js";
import { fixture } from "./fixtures.js";
import { KEY } from "../../helpers/windows-config.js";

const crlf = (s: string) => s.replace(/\r?\n/g, "\r\n");

describe("parseDbgSettings on the real fixtures", () => {
  it("2PF sample: busparams, key, NET, hostip, port, dhcp, with the prompt line", () => {
    const s = parseDbgSettings(fixture("bcdedit/docs-dbgsettings-net-2pf-busparams.txt"));
    expect(s).toMatchObject({
      busparams: "141.0.1",
      key: KEY,
      debugtype: "NET",
      hostip: "198.51.100.1",
      port: 50001,
      dhcp: true,
    });
    expect(s.hostipv6).toBeUndefined();
  });
  it("echo-lab sample without prompt and without busparams", () => {
    const s = parseDbgSettings(fixture("bcdedit/docs-dbgsettings-net-echo-lab.txt"));
    expect(s).toMatchObject({ key: KEY, debugtype: "NET", hostip: "169.168.1.1", port: 50000, dhcp: true });
    expect(s.busparams).toBeUndefined();
  });
  it("IPv6 sample with the extra spaces after hostipv6", () => {
    const s = parseDbgSettings(fixture("bcdedit/docs-dbgsettings-net-ipv6.txt"));
    expect(s).toMatchObject({ busparams: "0.25.0", hostipv6: "2001:db8:0:0:ff00:0:42:8329", port: 50010 });
    expect(s.hostip).toBeUndefined();
  });
  it("USB EEM sample: DBG2 index busparams, dhcp No, blank line after the prompt", () => {
    const s = parseDbgSettings(fixture("bcdedit/docs-dbgsettings-net-usb-eem-busparams-dbg2.txt"));
    expect(s).toMatchObject({ busparams: "1", hostip: "169.254.255.255", port: 50005, dhcp: false });
  });
  it("the redacted key of the port-policy sample is kept as printed", () => {
    expect(parseDbgSettings(fixture("bcdedit/docs-dbgsettings-net-port-policy.txt")).key).toBe("XXXXXX.XXXXX.XXXXX.XXXXX");
  });
  it("a Key= line bcdedit prints when it generated the key", () => {
    expect(parseDbgSettings(fixture("bcdedit/docs-hypervisorsettings-net-key-line.txt")).generatedKey).toBe(KEY);
  });
  it("CRLF, no status line, a German status line and Ja/Nein give the same result", () => {
    const base = fixture("bcdedit/docs-dbgsettings-net-2pf-busparams.txt");
    const expected = parseDbgSettings(base);
    expect(parseDbgSettings(crlf(base))).toEqual(expected);
    expect(parseDbgSettings(base.replace(/The operation.*\n?/, ""))).toEqual(expected);
    const de = base
      .replace("dhcp                    Yes", "dhcp                    Ja")
      .replace(/The operation.*/, "Der Vorgang wurde erfolgreich beendet.");
    expect({ ...parseDbgSettings(de), elements: {} }).toEqual({ ...expected, elements: {} });
    const zh = base.replace(/The operation.*/, "操作成功完成。");
    expect(parseDbgSettings(zh)).toEqual(expected);
  });
  it("hypervisor serial settings are elements too (no NET fields)", () => {
    const s = parseDbgSettings(fixture("bcdedit/docs-hypervisorsettings-display-serial.txt"));
    expect(s.elements.hypervisordebugtype).toBe("Serial");
    expect(s.debugtype).toBeUndefined();
  });
});

describe("parseBcdEnum on the real fixtures", () => {
  it("{default} of the 2PF doc: heading, identifier alias, loadoptions NO_KDNIC, debug Yes", () => {
    const [o, ...rest] = parseBcdEnum(fixture("bcdedit/docs-enum-default-2pf-loadoptions-NO_KDNIC.txt"));
    expect(rest).toHaveLength(0);
    expect(o!.heading).toBe("Windows Boot Loader");
    expect(o!.identifier).toBe("{current}");
    expect(o!.guid).toBeUndefined();
    const el = Object.fromEntries(o!.elements.map((e) => [e.name, e.value]));
    expect(el).toMatchObject({
      loadoptions: "NO_KDNIC",
      debug: "Yes",
      allowedinmemorysettings: "0x15000075",
      path: "\\Windows\\system32\\winload.efi",
    });
  });
  it("/enum all excerpt: multi-value displayorder, several objects, GUID identifiers", () => {
    const objs = parseBcdEnum(fixture("bcdedit/issue-windbg-feedback-378-enum-all-partial.txt"));
    expect(objs.map((o) => o.identifier)).toEqual([
      "{fwbootmgr}",
      "{bootmgr}",
      "{12cca3cf-6a57-11f1-89cf-806e6f6e6963}",
      "{1539749b-a925-11f0-8183-ad24f724798c}",
    ]);
    expect(objs[0]!.elements.find((e) => e.name === "displayorder")!.values).toEqual([
      "{12cca3cf-6a57-11f1-89cf-806e6f6e6963}",
      "{bootmgr}",
      "{1539749b-a925-11f0-8183-ad24f724798c}",
      "{1539749c-a925-11f0-8183-ad24f724798c}",
      "{1539749d-a925-11f0-8183-ad24f724798c}",
    ]);
    expect(objs[2]!.heading).toBe("Firmware Application (101fffff)");
    expect(objs[2]!.guid).toBe("{12cca3cf-6a57-11f1-89cf-806e6f6e6963}");
    expect(objs[1]!.elements.find((e) => e.name === "default")!.value).toBe("{current}");
  });
  it("localized headings and identifier label (zh-CN shape) parse the same, CRLF too", () => {
    const en = fixture("bcdedit/docs-enum-default-2pf-loadoptions-NO_KDNIC.txt");
    const zh = en
      .replace("Windows Boot Loader\n-------------------", "Windows 启动加载器\n-------------------")
      .replace("identifier     ", "标识符           ");
    const [a] = parseBcdEnum(en);
    const [b] = parseBcdEnum(crlf(zh));
    expect(b!.heading).toBe("Windows 启动加载器");
    expect(b!.identifier).toBe(a!.identifier);
    expect(b!.elements.map((e) => [e.name, e.values])).toEqual(a!.elements.map((e) => [e.name, e.values]));
  });
});

describe("parseCopyResult", () => {
  it("takes the GUID from the doc sample, not from the echo", () => {
    expect(parseCopyResult(fixture("bcdedit/docs-copy-current.txt"))).toBe("{55556666-ffff-7777-aaaa-8888bbbb9999}");
  });
  it("ignores a GUID in the command echo and works in another language", () => {
    const t =
      'C:\\> bcdedit /copy {11111111-2222-3333-4444-555555555555} /d "x"\r\n已将该项成功复制到 {AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE}。\r\n';
    expect(parseCopyResult(t)).toBe("{aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee}");
    expect(parseCopyResult("bcdedit /copy {11111111-2222-3333-4444-555555555555} /d x\n")).toBeUndefined();
  });
});

describe("classifyBcdeditFailure on the real failure samples", () => {
  it("Secure Boot policy", () => {
    const f = classifyBcdeditFailure(fixture("bcdedit/issue-appveyor-ci-919-secureboot-testsigning.txt"), 1);
    expect(f).toMatchObject({ kind: "secure-boot", code: "NETDBG-E201" });
    expect(f.message).toBe(
      "An error has occurred setting the element data. The value is protected by Secure Boot policy and cannot be modified or deleted.",
    );
  });
  it("store not found (debug on after fastfat.sys was deleted)", () => {
    expect(classifyBcdeditFailure(fixture("bcdedit/issue-windows-driver-samples-821-debug-on-store-not-found.txt"), 1).kind).toBe(
      "store-not-found",
    );
  });
  it("store externally altered (log with Execute:/Exit code: lines)", () => {
    const f = classifyBcdeditFailure(fixture("bcdedit/issue-hackbgrt-180-copy-bootmgr-store-altered.txt"), 1);
    expect(f.kind).toBe("store-altered");
    expect(f.message).not.toMatch(/Execute|Exit code/);
  });
  it("export failed", () => {
    expect(classifyBcdeditFailure(fixture("bcdedit/pastebin-eXQXKxKU-export-failed.txt"), 1).kind).toBe("export-failed");
  });
  it("parameter error", () => {
    const t = 'The specified device is invalid.\r\nRun "bcdedit /?" for command line help.\r\nParameter error.\r\n';
    expect(classifyBcdeditFailure(t, 1).kind).toBe("invalid-parameter");
  });
  it("text in a language no sign lists is unknown and kept raw; exit 0 is ok", () => {
    const t = "Đã xảy ra lỗi khi thiết lập dữ liệu phần tử.\r\n"; // SYNTHETIC (vi-VN)
    expect(classifyBcdeditFailure(t, 1)).toEqual({
      code: "NETDBG-E210",
      kind: "unknown",
      message: "Đã xảy ra lỗi khi thiết lập dữ liệu phần tử.",
    });
    expect(classifyBcdeditFailure("The operation completed successfully.\r\n", 0).kind).toBe("ok");
  });
});

describe("parseKdnetList on the real fixtures", () => {
  it("Broadcom plugged in + hypervisor line", () => {
    const l = parseKdnetList(fixture("kdnet-exe/docs-list-broadcom-plugged-in.txt"));
    expect(l.nics).toEqual([
      {
        busparams: "1.0.0",
        name: "Broadcom NetXtreme Gigabit Ethernet",
        status: "Plugged in",
        pluggedIn: true,
        kdnetRunning: false,
        primaryFunction: false,
        secondaryFunction: false,
      },
    ]);
    expect(l.hypervisorGuestSupport).toBe(true);
    expect(l.usbControllers).toEqual([]);
  });
  it("2PF after addpf: primary and secondary function, USB controllers", () => {
    const l = parseKdnetList(fixture("kdnet-exe/docs-list-after-addpf.txt"));
    expect(l.nics.map((n) => [n.busparams, n.name, n.pluggedIn, n.kdnetRunning, n.primaryFunction, n.secondaryFunction])).toEqual(
      [
        ["141.0.0", "Mellanox ConnectX-4 Lx Ethernet Adapter #2", true, false, true, false],
        ["141.0.1", "Mellanox ConnectX-4 Lx Ethernet Adapter", false, true, false, true],
      ],
    );
    expect(l.usbControllers).toHaveLength(4);
    expect(l.usbControllers[0]).toEqual({
      busparams: "128.15.0",
      name: "Standard USB 3.0 eXtensible Host Controller - 1.0 (Microsoft)",
      isDefault: false,
    });
  });
  it("running NIC with the doc's run-on 'kdnet.exe'", () => {
    const l = parseKdnetList(fixture("kdnet-exe/docs-list-running-on-nic-vm-page.txt"));
    expect(l.nics[0]).toMatchObject({
      busparams: "0.25.0",
      name: "Intel(R) 82579LM Gigabit Network Connection",
      kdnetRunning: true,
    });
    expect(l.nics[0]!.status).toBe("KDNET is running on this NIC");
  });
  it("no NIC, DBG2 USB controllers with (Default)", () => {
    const l = parseKdnetList(crlf(fixture("kdnet-exe/docs-list-no-nic-usb-eem-dbg2.txt")));
    expect(l.noSupportedNic).toBe(true);
    expect(l.nics).toEqual([]);
    expect(l.usbControllers.map((u) => [u.busparams, u.isDefault])).toEqual([
      ["1", true],
      ["2", false],
      ["3", false],
      ["4", false],
    ]);
    expect(l.usbControllers[0]!.name).toBe("Device-mode USB controller with Vendor ID: 5143");
  });
  it("xHCI only; legacy 2PF running", () => {
    const x = parseKdnetList(fixture("kdnet-exe/docs-list-usb-xhci-only.txt"));
    expect(x.nics).toEqual([]);
    expect(x.usbControllers).toEqual([
      { busparams: "0.20.0", name: "Intel(R) USB 3.0 eXtensible Host Controller - 1.0 (Microsoft)", isDefault: false },
    ]);
    const p = parseKdnetList(fixture("kdnet-exe/docs-list-2pf-running-legacy.txt"));
    expect(p.nics).toHaveLength(1);
    expect(p.nics[0]!.kdnetRunning).toBe(true);
    expect(p.usbControllers).toHaveLength(4);
  });
});

describe("the netdbg/windows library surface", () => {
  it("package.json maps netdbg/windows to this index, which exports the five parsers by the issue's names", async () => {
    const { readFileSync } = await import("node:fs");
    const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
      exports: Record<string, string>;
    };
    expect(pkg.exports["./windows"]).toBe("./dist/targets/windows/index.js");
    const lib = await import("../../../src/targets/windows/index.js");
    for (const name of [
      "parseDbgSettings",
      "parseBcdEnum",
      "parseCopyResult",
      "classifyBcdeditFailure",
      "parseKdnetList",
    ] as const) {
      expect(typeof lib[name], name).toBe("function");
    }
  });
});
