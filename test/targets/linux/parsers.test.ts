import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { kv, lockdownMode, parseCpuList, parseNics, parseRouteGet, secureBootState } from "../../../src/targets/linux/probe.js";
import {
  classifyModuleLoadFailure,
  kconfigEnabled,
  parseKernelConfig,
  parseKgdboeDmesg,
} from "../../../src/targets/linux/index.js";

/** Real tool output in test/fixtures/linux/ (its README names each file's source). */
const fixture = (f: string) => readFileSync(new URL(`../../fixtures/linux/${f}`, import.meta.url), "utf8");

describe("parseKernelConfig", () => {
  it("reads the real Debian 12 config excerpt: KGDB not set, NETPOLL/TRACEPOINTS/KALLSYMS_ALL on", () => {
    const cfg = parseKernelConfig(fixture("debian12-6.1.0-56-amd64-config-excerpt.txt"));
    expect(cfg.options.KGDB).toBe("n");
    expect(cfg.options.IKCONFIG).toBe("n");
    expect(cfg.options.NETCONSOLE).toBe("m");
    expect(cfg.options.MODULE_SIG_FORCE).toBe("n");
    expect(kconfigEnabled(cfg, "CONFIG_NETPOLL")).toBe(true);
    expect(kconfigEnabled(cfg, "KALLSYMS_ALL")).toBe(true);
    expect(kconfigEnabled(cfg, "KGDB")).toBe(false);
    // provenance comments are not options
    expect(Object.keys(cfg.options).every((k) => /^[A-Z0-9_]+$/.test(k))).toBe(true);
  });

  it("takes pasted text: CRLF, blanks, prompts, grep file: prefixes, quoted strings", () => {
    const cfg = parseKernelConfig(
      [
        "$ grep KGDB /boot/config-6.8.0-45-generic\r",
        "/boot/config-6.8.0-45-generic:CONFIG_KGDB=y\r",
        '   CONFIG_LSM="lockdown,yama,integrity,apparmor"',
        'CONFIG_LOCALVERSION=""',
        "CONFIG_KDB_DEFAULT_ENABLE=0x1",
        "  # CONFIG_KGDB_KDB is not set",
      ].join("\n"),
    );
    expect(cfg.options).toEqual({
      KGDB: "y",
      LSM: "lockdown,yama,integrity,apparmor",
      LOCALVERSION: "",
      KDB_DEFAULT_ENABLE: "0x1",
      KGDB_KDB: "n",
    });
  });
});

// Real capture from https://github.com/sysprogs/kgdboe/issues/7 (kernel 5.6), with the dmesg timestamps people
// paste; the addresses were already masked by the reporter.
const SUCCESS_56 = `[  101.118546] kgdboe: loading out-of-tree module taints kernel.
[  101.118612] kgdboe: module verification failed: signature and/or required key missing - tainting kernel
[  101.120351] netpoll: kgdboe: local IP 192.168.1.26
[  101.120361] kgdboe: single-core mode enabled. Shutting down all cores except #0. This is slower, but safer.
[  101.120362] kgdboe: you can try using multi-core mode by specifying the following argument:
[  101.120362] \tinsmod kgdboe.ko force_single_core = 0
[  101.156148] KGDB: Registered I/O driver kgdboe
[  101.156153] kgdboe: Successfully initialized. Use the following gdb command to attach:
[  101.156153] \ttarget remote udp:192.168.1.26:31337
`;

describe("parseKgdboeDmesg", () => {
  it("finds success, local IP and the attach line (timestamps, tabs)", () => {
    const r = parseKgdboeDmesg(SUCCESS_56);
    expect(r).toMatchObject({ loaded: true, udpTarget: { host: "192.168.1.26", port: 31337 }, localIp: "192.168.1.26" });
    expect(r.singleCore).toBe(true);
    expect(r.failures).toEqual([]); // the taint lines are not failures
  });

  it("takes the same text without timestamps, with -T times, journalctl prefixes and literal \\t", () => {
    const bare = SUCCESS_56.replace(/^\[[^\]]*\] /gm, "");
    const human = SUCCESS_56.replace(/^\[[^\]]*\] /gm, "[Sat Nov 21 06:01:02 2026] ");
    const journal = SUCCESS_56.replace(/^\[[^\]]*\] /gm, "Nov 21 06:01:02 lab kernel: ").replaceAll("\t", "\\t");
    for (const t of [bare, human, journal]) {
      expect(parseKgdboeDmesg(t)).toMatchObject({ loaded: true, udpTarget: { host: "192.168.1.26", port: 31337 } });
    }
  });

  it("accepts the old lower-case register wording (3.10) as loaded", () => {
    expect(parseKgdboeDmesg("kgdb: Registered I/O driver kgdboe.\n").loaded).toBe(true);
    expect(parseKgdboeDmesg("KGDB: Registered I/O driver kgdboe\n").loaded).toBe(true);
  });

  it("reports failure lines with codes, and an unload after success means not loaded", () => {
    const r = parseKgdboeDmesg(
      `[ 5.1] netpoll: kgdboe: usb0 doesn't support polling, aborting
[ 5.1] kgdboe: Failed to setup netpoll for usb0, code -95`,
    );
    expect(r.loaded).toBe(false);
    expect(r.failures.map((f) => f.code)).toEqual(["NETDBG-E326", "NETDBG-E326"]);
    const after = parseKgdboeDmesg(`${SUCCESS_56}[  300.0] KGDB: Unregistered I/O driver kgdboe, debugger disabled\n`);
    expect(after.loaded).toBe(false);
  });

  it("a failed attempt followed by a successful one is loaded", () => {
    const r = parseKgdboeDmesg(`kgdboe: Cannot find network device by name: ens33\n${SUCCESS_56}`);
    expect(r.loaded).toBe(true);
    expect(r.failures).toEqual([{ code: "NETDBG-E323", line: "kgdboe: Cannot find network device by name: ens33" }]);
  });
});

describe("parseKgdboeDmesg: multi-core mode", () => {
  it("reads upstream's 'hooked' line and the bundled module's 'no driver is hooked' line as multi-core", () => {
    for (const line of [
      "kgdboe: your kernel has been hooked to avoid deadlocks caused by accessing network driver from debugger.",
      "kgdboe: multi-core mode: no driver is hooked; while the kernel is stopped KGDB holds the other CPUs, and they run the driver freely otherwise",
    ])
      expect(parseKgdboeDmesg(`kgdboe: found owner module for eth0: e1000\n${line}\n`).singleCore).toBe(false);
  });
  it("the bundled module never claims to hook the driver (it hooks nothing)", () => {
    const src = readFileSync(new URL("../../../assets/kgdboe-compat/kgdboe.c", import.meta.url), "utf8");
    expect(src).not.toContain("your kernel has been hooked");
    expect(src).toContain("multi-core mode: no driver is hooked");
  });
});

describe("classifyModuleLoadFailure", () => {
  const cases: [string, string][] = [
    // kgdboe's own lines (A2)
    [
      "[  12.1] kgdboe: this kernel version requires specifying the address of kallsyms_lookup_name explicitly. Please append 'kallsyms_lookup_name_address=0x...' to insmod command line.\ninsmod: ERROR: could not insert module kgdboe.ko: Invalid parameters",
      "NETDBG-E322",
    ],
    [
      "insmod: ERROR: could not insert module kgdboe.ko: Invalid parameters\n[ 3.2] kgdboe: Cannot find network device by name: ens33",
      "NETDBG-E323",
    ],
    ["kgdboe: Missing tracepoints for netif_receive_skb. Aborting.", "NETDBG-E327"],
    ["kgdboe: eth0 does not have a in_ifaddr struct associated. Cannot get default IP address.", "NETDBG-E324"],
    ["kgdboe: eth0 does not have an in_device associated. Cannot get default IP address.", "NETDBG-E324"],
    ["kgdboe: Failed to register rx handler for eth0, code -16", "NETDBG-E325"],
    ["kgdboe: Cannot find netpoll_poll_dev(). Aborting.", "NETDBG-E328"],
    ["kgdboe: failed to enable the single-CPU mode. 4 CPUs found and HOTPLUG_CPU is not enabled.", "NETDBG-E329"],
    [
      "kgdboe: cannot find the module owning eth0. Is the driver built-in?\nkgdboe: failed to guarantee cross-CPU network API synchronization. Aborting. Try enabling single-CPU mode.",
      "NETDBG-E330",
    ],
    ["kgdboe: Invalid local IP: 300.1.1.1", "NETDBG-E333"],
    // kernel refusals (A2, A6, A12), new and old wording
    [
      "insmod: ERROR: could not insert module kgdboe.ko: Operation not permitted\n[  88.4] Lockdown: insmod: unsigned module loading is restricted; see man kernel_lockdown.7",
      "NETDBG-E320",
    ],
    ["Lockdown: systemd-modules-load: unsigned module loading is restricted; see man kernel_lockdown.7", "NETDBG-E320"],
    [
      "insmod: ERROR: could not insert module kgdboe.ko: Key was rejected by service\nLoading of module with unavailable key is rejected",
      "NETDBG-E321",
    ],
    ["insmod: ERROR: could not insert module kgdboe.ko: Required key not available", "NETDBG-E321"],
    ["KGDB: KGDB I/O driver kgdboe can't replace kgdboc.", "NETDBG-E332"],
    ["KGDB: Another I/O driver is already registered with KGDB", "NETDBG-E332"],
    ["[ 9.9] Missing ENDBR: kallsyms_lookup_name+0x0/0x100\n[ 9.9] kernel BUG at arch/x86/kernel/cet.c:102!", "NETDBG-E331"],
    [
      "insmod: ERROR: could not insert module kgdboe.ko: Invalid module format\nkgdboe: version magic '6.1.0-55-amd64 SMP' should be '6.1.0-56-amd64 SMP'",
      "NETDBG-E335",
    ],
    ["insmod: ERROR: could not insert module kgdboe.ko: Invalid parameters", "NETDBG-E334"],
  ];
  it.each(cases)("%s → %s", (text, code) => {
    const c = classifyModuleLoadFailure(text);
    expect(c.code).toBe(code);
    expect(c.message.length).toBeGreaterThan(10);
    expect(c.fix.length).toBeGreaterThan(10);
  });

  it("maps the real no-KGDB build log to the no-KGDB stop", () => {
    const c = classifyModuleLoadFailure(fixture("kgdboe-build-fail-debian12-no-kgdb.txt"));
    expect(c.code).toBe("NETDBG-E300");
    expect(c.fix).toMatch(/CONFIG_KGDB=y/);
  });

  it("the taint warning alone is not a signature failure; unknown text keeps its own code and line", () => {
    const c = classifyModuleLoadFailure(
      "kgdboe: module verification failed: signature and/or required key missing - tainting kernel\nkgdboe: something new happened",
    );
    expect(c.code).toBe("NETDBG-E339");
    expect(c.message).toContain("kgdboe: something new happened");
  });
});

/** Own captures from the netdbg lab (test/fixtures-own/linux/, provenance in each file's first line). */
const own = (f: string) => readFileSync(new URL(`../../fixtures-own/linux/${f}`, import.meta.url), "utf8");

describe("own lab captures", () => {
  it("the compat module's real dmesg on the KGDB kernel: loaded, attach line (a continuation line without timestamp)", () => {
    const r = parseKgdboeDmesg(own("lab-kgdb-compat-dmesg-loaded.txt"));
    expect(r).toMatchObject({
      loaded: true,
      udpTarget: { host: "10.0.2.15", port: 31337 },
      localIp: "10.0.2.15",
      singleCore: true,
    });
    expect(r.failures).toEqual([]);
  });

  it("the compat module's real build log on Debian's stock headers classifies as no-KGDB", () => {
    expect(classifyModuleLoadFailure(own("compat-build-fail-debian12-no-kgdb.txt")).code).toBe("NETDBG-E300");
  });

  it("the stock lab's real probe outputs parse", () => {
    const nics = parseNics(own("lab-stock-probe-nics.txt"));
    expect(nics).toEqual([
      { name: "eth0", driver: "e1000", state: "up", flags: [], ipv4: "10.0.2.15", ipv4All: ["10.0.2.15"] },
      { name: "lo", driver: "-", state: "unknown", flags: ["virtual", "loopback"], ipv4: "127.0.0.1", ipv4All: ["127.0.0.1"] },
    ]);
    const sec = kv(own("lab-stock-probe-security.txt"));
    expect(lockdownMode(sec.get("lockdown") ?? "")).toBe("none");
    expect(secureBootState(sec.get("sb") ?? "")).toBe("legacy");
    expect(parseRouteGet(own("lab-stock-route-get.txt"))).toEqual({ dev: "eth0", src: "10.0.2.15" });
    expect(parseCpuList(kv(own("lab-stock-probe-state.txt")).get("cpus_online") ?? "")).toEqual([0]);
  });
});
