/**
 * Each doctor check as a pure function over facts. Facts come from real captured output where it exists:
 * test/fixtures/linux (Debian 12's .config), test/fixtures/bcdedit (dbgsettings from Microsoft's docs),
 * Microsoft's KDNET NIC list (via the probe's classifier), an iputils ping capture (test/fixtures-own/doctor).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { netdbgError } from "../../src/core/error.js";
import type { Target } from "../../src/core/inventory.js";
import { headersCheck, kconfigCheck, kgdboeCheck, lockdownCheck } from "../../src/doctor/checks-linux.js";
import { firewallCheck, ipsecCheck } from "../../src/doctor/checks-host.js";
import { hopsCheck, rttCheck } from "../../src/doctor/checks-route.js";
import { nicCheck, sshCheck } from "../../src/doctor/checks-target.js";
import {
  bcdCheck,
  bitlockerCheck,
  DEFAULT_POKE_LISTEN_MS,
  pokesCheck,
  secureBootCheck,
} from "../../src/doctor/checks-windows.js";
import { hopsFromTtl, parsePingTtl } from "../../src/doctor/probes.js";
import { runChecks } from "../../src/doctor/run.js";
import type { Check, DoctorDeps } from "../../src/doctor/types.js";
import { SSH_SKIP } from "../../src/doctor/util.js";
import type { PokeSource } from "../../src/engine/kdnet/listen.js";
import type { FirewallPlan } from "../../src/host/firewall/index.js";
import type { HostRoute } from "../../src/host/route.js";
import { parseKernelConfig } from "../../src/targets/linux/kconfig.js";
import { lockdownMode, parseNics } from "../../src/targets/linux/probe.js";
import type { LinuxFacts } from "../../src/targets/linux/types.js";
import { factsFromProbe, type WindowsFacts } from "../../src/targets/windows/probe.js";
import { KGDB_CONFIG } from "../../src/peers/linux-target.js";
import { linuxFacts as sharedLinuxFacts } from "../helpers/linux-facts.js";
import { KEY } from "../helpers/windows-config.js";

const shared = (rel: string) => readFileSync(new URL(`../fixtures/${rel}`, import.meta.url), "utf8");
const own = (rel: string) => readFileSync(new URL(`../fixtures-own/${rel}`, import.meta.url), "utf8");

const OTHER_KEY = "1a.2b.3c.4d";

const linuxTarget: Target = { name: "lx", os: "linux", address: "10.0.2.15", port: 50020 };
const winTarget: Target = { name: "win", os: "windows", address: "169.168.1.2", port: 50000 };

/** The shared Linux facts with the names of Debian 12's stock kernel, and its NICs parsed from `ip` output. */
function linuxFacts(over: Partial<LinuxFacts> = {}): LinuxFacts {
  return sharedLinuxFacts({
    os: { id: "debian", idLike: [], pretty: "Debian GNU/Linux 12 (bookworm)", family: "debian" },
    kernel: { release: "6.1.0-56-amd64", arch: "x86_64" },
    config: { source: "/boot/config-6.1.0-56-amd64", cfg: parseKernelConfig(KGDB_CONFIG) },
    secureBoot: "disabled",
    cmdline: "root=/dev/vda1 nokaslr",
    tools: { headers: true, systemd: true, have: ["gcc", "make", "apt-get"] },
    nics: parseNics(
      "nic\teth0\te1000\tup\t\nnic\twlan0\tiwlwifi\tup\twireless\n2: eth0    inet 10.0.2.15/24 brd 10.0.2.255 scope global eth0\n",
    ),
    kallsyms: { address: "0xffffffff8113d2a0", kptrRestrict: "0" },
    cpusOnline: [0, 1],
    ...over,
  });
}

const rawNic = (over: Record<string, unknown>) => ({
  name: "Ethernet",
  interfaceDescription: "Intel(R) 82574L Gigabit Network Connection",
  pnpDeviceId: "PCI\\VEN_8086&DEV_10D3&SUBSYS_00008086&REV_00\\3&267A616A&0&18",
  ndisPhysicalMedium: 14,
  virtual: false,
  status: "Up",
  linkSpeed: "1 Gbps",
  segment: 0,
  bus: 0,
  device: 3,
  function: 0,
  ...over,
});

function windowsFacts(
  o: { dbgsettings?: string; nics?: unknown[]; build?: number; secureBoot?: boolean | null; teams?: unknown } = {},
): WindowsFacts {
  const ok = (output: string) => ({ exitCode: 0, output });
  return factsFromProbe({
    user: "WIN\\admin",
    os: { caption: "Windows 11 Pro", version: "10.0.22631", build: o.build ?? 22631, arch: "AMD64", edition: "Professional" },
    systemDrive: "C:",
    secureBoot: { state: o.secureBoot === undefined ? false : o.secureBoot, source: "Confirm-SecureBootUEFI" },
    bitlocker: [{ mountPoint: "C:", volumeStatus: "FullyEncrypted", protectionStatus: "On" }],
    hyperv: null,
    teams: (o.teams ?? null) as never,
    nics: (o.nics ?? [rawNic({})]) as never,
    bcd: {
      dbgsettings: ok(o.dbgsettings ?? shared("bcdedit/docs-dbgsettings-net-echo-lab.txt")),
      current: ok(""),
      bootmgr: ok(""),
      loaders: ok(""),
    },
    kdnet: null,
    exports: null,
  });
}

const run = async (c: Check, d: DoctorDeps) => (await runChecks(d, [c]))[0]!;

describe("Linux checks over probe facts", () => {
  it("linux.kconfig: Debian 12's real config has no KGDB → E300 with the rebuild fix; a KGDB config passes", async () => {
    const debian = parseKernelConfig(shared("linux/debian12-6.1.0-56-amd64-config-excerpt.txt"));
    const fail = await run(kconfigCheck, {
      target: linuxTarget,
      linuxFacts: async () => linuxFacts({ config: { source: "/boot/config-6.1.0-56-amd64", cfg: debian } }),
    });
    expect(fail).toMatchObject({ status: "fail", code: "NETDBG-E300", doc: "docs/doctor/linux.kconfig.md" });
    expect(fail.fix).toContain("CONFIG_KGDB=y");
    const ok = await run(kconfigCheck, { target: linuxTarget, linuxFacts: async () => linuxFacts() });
    expect(ok.status).toBe("ok");
    expect(ok.message).toContain("CONFIG_KGDB");
  });

  it("linux.kconfig: no config found → E302; KGDB without NETPOLL → E301 naming it", async () => {
    const none = await run(kconfigCheck, {
      target: linuxTarget,
      linuxFacts: async () => linuxFacts({ config: { source: null, cfg: { options: {} } } }),
    });
    expect(none.code).toBe("NETDBG-E302");
    const cfg = parseKernelConfig(KGDB_CONFIG.replace("CONFIG_NETPOLL=y", "# CONFIG_NETPOLL is not set"));
    const partial = await run(kconfigCheck, {
      target: linuxTarget,
      linuxFacts: async () => linuxFacts({ config: { source: "/proc/config.gz", cfg } }),
    });
    expect(partial).toMatchObject({ status: "fail", code: "NETDBG-E301", message: expect.stringContaining("CONFIG_NETPOLL") });
  });

  it("linux.lockdown: [integrity] fails with E303; none passes", async () => {
    const on = await run(lockdownCheck, {
      target: linuxTarget,
      linuxFacts: async () => linuxFacts({ lockdown: lockdownMode("none [integrity] confidentiality"), secureBoot: "enabled" }),
    });
    expect(on).toMatchObject({ status: "fail", code: "NETDBG-E303", message: expect.stringContaining("'integrity'") });
    expect((await run(lockdownCheck, { target: linuxTarget, linuxFacts: async () => linuxFacts() })).status).toBe("ok");
  });

  it("linux.headers: missing headers fail with the apt-get command, but only warn when kgdboe is already loaded", async () => {
    const tools = { headers: false, systemd: true, have: ["gcc", "make"] };
    const fail = await run(headersCheck, { target: linuxTarget, linuxFacts: async () => linuxFacts({ tools }) });
    expect(fail).toMatchObject({
      status: "fail",
      code: "NETDBG-E304",
      fix: expect.stringContaining("linux-headers-6.1.0-56-amd64"),
    });
    const loaded = { ...linuxFacts().state, loaded: true, params: { udp_port: "31337" } };
    const warn = await run(headersCheck, { target: linuxTarget, linuxFacts: async () => linuxFacts({ tools, state: loaded }) });
    expect(warn.status).toBe("warn");
  });

  it("target.nic (Linux): the NIC that routes to the host is wireless → E307; a wired one passes", async () => {
    const wifi = await run(nicCheck, {
      target: linuxTarget,
      linuxFacts: async () => linuxFacts({ route: { to: "10.0.2.2", dev: "wlan0" } }),
    });
    expect(wifi).toMatchObject({ status: "fail", code: "NETDBG-E307", message: expect.stringContaining("wireless") });
    expect(wifi.fix).toContain("eth0");
    const ok = await run(nicCheck, { target: linuxTarget, linuxFacts: async () => linuxFacts() });
    expect(ok).toMatchObject({ status: "ok", message: expect.stringContaining("'eth0' (driver e1000, 10.0.2.15)") });
  });

  it("linux.kgdboe: not loaded → E710; loaded but silent → E711 with the endpoint; answering → ok", async () => {
    const loaded = { ...linuxFacts().state, loaded: true, params: { udp_port: "31337" } };
    expect((await run(kgdboeCheck, { target: linuxTarget, linuxFacts: async () => linuxFacts() })).code).toBe("NETDBG-E710");
    const silent = await run(kgdboeCheck, {
      target: linuxTarget,
      linuxFacts: async () => linuxFacts({ state: loaded }),
      kgdboe: async () => {
        throw netdbgError("E404", { request: "qSupported", tries: 3 } as never);
      },
    });
    expect(silent).toMatchObject({
      status: "fail",
      code: "NETDBG-E711",
      message: expect.stringContaining("udp:10.0.2.15:31337"),
    });
    const ok = await run(kgdboeCheck, {
      target: linuxTarget,
      linuxFacts: async () => linuxFacts({ state: loaded }),
      kgdboe: async () => ({ endpoint: "udp:10.0.2.15:31337", stop: "S05", arch: "x86_64", pc: "0xffffffff81000000" }),
    });
    expect(ok).toMatchObject({ status: "ok", message: expect.stringContaining("detached") });
  });
});

describe("Windows checks over probe facts", () => {
  it("windows.bcd: Microsoft's echo-lab dbgsettings match the inventory and the stored key → ok; no key printed", async () => {
    const d: DoctorDeps = {
      target: winTarget,
      windowsFacts: async () => windowsFacts(),
      hostAddress: async () => "169.168.1.1",
      storedKey: async () => KEY,
    };
    const ok = await run(bcdCheck, d);
    expect(ok).toMatchObject({ status: "ok", message: expect.stringContaining("NET to 169.168.1.1:50000") });
    expect(JSON.stringify(ok)).not.toContain(KEY);
    const wrongKey = await run(bcdCheck, { ...d, storedKey: async () => OTHER_KEY });
    expect(wrongKey).toMatchObject({ status: "fail", code: "NETDBG-E709", message: expect.stringContaining("key differs") });
    expect(JSON.stringify(wrongKey)).not.toContain(KEY);
    expect(JSON.stringify(wrongKey)).not.toContain(OTHER_KEY);
    const wrongHost = await run(bcdCheck, { ...d, hostAddress: async () => "169.168.1.7" });
    expect(wrongHost).toMatchObject({ status: "fail", code: "NETDBG-E706" });
    const wrongPort = await run(bcdCheck, { ...d, target: { ...winTarget, port: 50001 } });
    expect(wrongPort.message).toContain("port is 50000 (inventory: 50001)");
  });

  it("target.nic (Windows): the NIC busparams names (2PF fixture) decides; wireless, USB, too-old build, team, 10 GbE", async () => {
    const bp = shared("bcdedit/docs-dbgsettings-net-2pf-busparams.txt"); // busparams 141.0.1
    const at = (over: Record<string, unknown>, extra: { build?: number; teams?: unknown } = {}, target = winTarget) =>
      run(nicCheck, {
        target,
        windowsFacts: async () =>
          windowsFacts({ dbgsettings: bp, nics: [rawNic({ bus: 141, device: 0, function: 1, ...over })], ...extra }),
      });
    expect(await at({})).toMatchObject({ status: "ok", message: expect.stringContaining("busparams 141.0.1") });
    expect(await at({ name: "Wi-Fi", ndisPhysicalMedium: 9 })).toMatchObject({ status: "fail", code: "NETDBG-E203" });
    // a USB NIC has no PCI location: the inventory names it
    const usb = { ...winTarget, transport: { nic: "Ethernet" } };
    expect(await at({ pnpDeviceId: "USB\\VID_0B95&PID_1790\\000001" }, {}, usb)).toMatchObject({ code: "NETDBG-E204" });
    // busparams naming a device the target does not have: nothing chosen, and no candidate passes
    expect(await at({ pnpDeviceId: "USB\\VID_0B95&PID_1790\\000001" })).toMatchObject({ code: "NETDBG-E208" });
    const old = await at({ pnpDeviceId: "PCI\\VEN_10EC&DEV_8125&SUBSYS_00001043&REV_05\\01" }, { build: 17763 });
    expect(old).toMatchObject({ status: "fail", code: "NETDBG-E202", message: expect.stringContaining("build 18362") });
    const team = await at({}, { teams: { name: "Team1", members: ["Ethernet"] } });
    expect(team).toMatchObject({ status: "fail", code: "NETDBG-E205", fix: expect.stringContaining("Team1") });
    const fast = await at({ pnpDeviceId: "PCI\\VEN_8086&DEV_1572&SUBSYS_00018086&REV_01\\01", linkSpeed: "10 Gbps" });
    expect(fast).toMatchObject({ status: "warn", message: expect.stringContaining("10 Gbps") });
  });

  it("windows.secureboot: on → E201, unknown → E217 warn; windows.bitlocker: protected C: → warn with Suspend-BitLocker (manage-bde through WMI); unknown → E226 warn", async () => {
    const sb = (state: boolean | null) =>
      run(secureBootCheck, { target: winTarget, windowsFacts: async () => windowsFacts({ secureBoot: state }) });
    expect(await sb(true)).toMatchObject({ status: "fail", code: "NETDBG-E201" });
    expect(await sb(null)).toMatchObject({ status: "warn", code: "NETDBG-E217" });
    expect((await sb(false)).status).toBe("ok");
    const bl = await run(bitlockerCheck, { target: winTarget, windowsFacts: async () => windowsFacts() });
    expect(bl).toMatchObject({ status: "warn", fix: expect.stringContaining("Suspend-BitLocker -MountPoint C:") });
    // no source answered: unknown is a warning with setup's own code, never "No BitLocker volume."
    const unknown = await run(bitlockerCheck, {
      target: winTarget,
      windowsFacts: async () => ({ ...windowsFacts(), bitlocker: [], bitlockerSource: null }),
    });
    expect(unknown).toMatchObject({ status: "warn", code: "NETDBG-E226" });
    // read through WMI (Home with device encryption, no cmdlets): the fix names manage-bde, which exists there
    const wmi = await run(bitlockerCheck, {
      target: winTarget,
      windowsFacts: async () => ({ ...windowsFacts(), bitlockerSource: "Win32_EncryptableVolume" }),
    });
    expect(wmi).toMatchObject({
      status: "warn",
      fix: expect.stringContaining("manage-bde -protectors -disable C: -RebootCount 1"),
    });
  });

  it("kdnet.pokes: unauthenticated pokes → E704 (wrong key); authenticated from another address → E512 warn", async () => {
    const src = (over: Partial<PokeSource>): PokeSource => ({
      from: "169.168.1.2:50000",
      address: "169.168.1.2",
      port: 50000,
      version: 5,
      pokes: 1,
      authenticated: false,
      dataDatagrams: 0,
      ...over,
    });
    const d = (sources: PokeSource[]): DoctorDeps => ({
      target: winTarget,
      storedKey: async () => KEY,
      listenPokes: async (ports) => ports.map((port) => ({ port, sources: port === 50000 ? sources : [] })),
      pokeListenMs: 10,
    });
    expect(await run(pokesCheck, d([src({})]))).toMatchObject({ status: "fail", code: "NETDBG-E704" });
    expect(await run(pokesCheck, d([src({ authenticated: true, address: "10.9.9.9", from: "10.9.9.9:1" })]))).toMatchObject({
      status: "warn",
      code: "NETDBG-E512",
    });
    expect((await run(pokesCheck, d([src({ authenticated: true })]))).status).toBe("ok");
    const none = await run(pokesCheck, d([]));
    expect(none).toMatchObject({ status: "fail", code: "NETDBG-E708" });
  });

  it("kdnet.pokes does not listen when the target was never set up and its settings say no poke can come", async () => {
    // Windows' default {dbgsettings}: serial debugging on COM1; the running entry has no debug element
    const serial = [
      "Debugger Settings",
      "-----------------",
      "identifier              {dbgsettings}",
      "debugtype               Serial",
      "debugport               1",
      "baudrate                115200",
      "",
    ].join("\r\n");
    const listened: number[] = [];
    const d = (dbgsettings: string, over: Partial<DoctorDeps> = {}): DoctorDeps => ({
      target: winTarget,
      storedKey: async () => KEY,
      setUp: async () => false,
      windowsFacts: async () => windowsFacts({ dbgsettings }),
      listenPokes: async (ports, ms) => {
        listened.push(ms);
        return ports.map((port) => ({ port, sources: [] }));
      },
      ...over,
    });
    const r = await run(pokesCheck, d(serial));
    expect(r).toMatchObject({ status: "fail", code: "NETDBG-E714" });
    expect(r.message).toContain("Not listened for pokes");
    expect(listened).toEqual([]);
    // NET dbgsettings (set by hand, say) could poke: it listens the full time; so it does when the user asks (--listen)
    await run(pokesCheck, d(shared("bcdedit/docs-dbgsettings-net-echo-lab.txt")));
    await run(pokesCheck, d(serial, { pokeListenMs: 10 }));
    expect(listened).toEqual([DEFAULT_POKE_LISTEN_MS, 10]);
  });
});

describe("route, firewall, IPsec and the shared SSH session", () => {
  const route =
    (over: Partial<HostRoute> = {}): (() => Promise<HostRoute>) =>
    async () => ({
      address: "192.0.2.5",
      localAddress: "192.0.2.1",
      interface: "eth0",
      medium: "ethernet",
      wired: true,
      source: "ip-route",
      warnings: [],
      ...over,
    });

  it("ping's TTL (real iputils capture) → hops; route.hops: same link ok, routed warn, ≥ 16 routers fail E702", async () => {
    const ttl = parsePingTtl(own("doctor/ping-iputils-loopback.txt"));
    expect(ttl).toBe(64);
    expect(hopsFromTtl(ttl!)).toBe(0);
    expect([hopsFromTtl(57), hopsFromTtl(118), hopsFromTtl(240)]).toEqual([7, 10, 15]);
    expect(parsePingTtl("Reply from 192.0.2.5: bytes=32 time<1ms TTL=125")).toBe(125);
    expect((await run(hopsCheck, { target: winTarget, route: route() })).status).toBe("ok");
    const routed = await run(hopsCheck, {
      target: winTarget,
      route: route({ gateway: "192.0.2.254" }),
      hops: async () => ({ hops: 3, ttl: 61 }),
    });
    expect(routed).toMatchObject({ status: "warn", message: expect.stringContaining("about 3 router") });
    const far = await run(hopsCheck, {
      target: winTarget,
      route: route({ gateway: "192.0.2.254" }),
      hops: async () => ({ hops: 17, ttl: 47 }),
    });
    expect(far).toMatchObject({ status: "fail", code: "NETDBG-E702" });
  });

  it("route.rtt: the best sample decides; 35 ms warns (E712) with the implied rate, 0.4 ms is ok", async () => {
    const slow = await run(rttCheck, { target: linuxTarget, rtt: async () => ({ ms: [40, 35, 38], via: "TCP handshake" }) });
    expect(slow).toMatchObject({ status: "warn", code: "NETDBG-E712", message: expect.stringContaining("35.0 ms") });
    expect(slow.message).toContain("about 14 KiB/s"); // 496 B / 35 ms = 13.8 KiB/s
    const fast = await run(rttCheck, { target: winTarget, rtt: async () => ({ ms: [0.9, 0.4], via: "TCP handshake" }) });
    expect(fast).toMatchObject({ status: "ok", message: expect.stringContaining("2.6 MiB/s") }); // 1096 B / 0.4 ms
  });

  it("host.firewall: a datagram that does not arrive → E700; no way to send → static probe, and says so", async () => {
    const base: DoctorDeps = {
      target: linuxTarget,
      session: async () => {},
      portFree: async () => true,
      hostAddress: async () => "10.0.2.2",
    };
    const dropped = await run(firewallCheck, {
      ...base,
      datagramFromTarget: async () => ({ sent: true, received: false, via: "python3" }),
    });
    expect(dropped).toMatchObject({
      status: "fail",
      code: "NETDBG-E700",
      fix: expect.stringContaining("netdbg host firewall open lx"),
    });
    const plan: FirewallPlan = {
      frontEnds: ["nftables"],
      summary: "nftables is in charge",
      actions: [
        {
          id: "nft-accept",
          title: "accept",
          where: "host",
          command: "nft add rule …",
          undo: "nft delete rule …",
          satisfied: false,
          exec: [],
          undoExec: [],
        },
      ],
      warnings: [],
      blockers: [],
    };
    const fallback = await run(firewallCheck, {
      ...base,
      datagramFromTarget: async () => ({
        sent: false,
        received: false,
        detail: "netdbg: neither bash nor python3 is installed on the target",
      }),
      firewallStatus: async () => plan,
    });
    expect(fallback).toMatchObject({ status: "fail", code: "NETDBG-E701" });
    expect(fallback.message).toContain("Static probe only");
    expect(fallback.message).toContain("neither bash nor python3");
  });

  it("host.ipsec: a policy requiring protection → E130 with the exemption; unreadable → warn", async () => {
    const query = { target: "192.0.2.5", local: "192.0.2.1", port: 50020 };
    const finding = { rule: "dir in ptype main", direction: "in" as const, certain: true, detail: "esp required" };
    const hit = await run(ipsecCheck, {
      target: linuxTarget,
      ipsec: async () => ({
        report: { source: "ip-xfrm", readable: true, findings: [finding], exemption: ["ip xfrm policy add …"], notes: [] },
        query,
      }),
    });
    expect(hit).toMatchObject({ status: "fail", code: "NETDBG-E130", fix: expect.stringContaining("ip xfrm policy add") });
    const unreadable = await run(ipsecCheck, {
      target: linuxTarget,
      ipsec: async () => ({
        report: { source: "ip-xfrm", readable: false, findings: [], exemption: [], notes: ["needs root"] },
        query,
      }),
    });
    expect(unreadable.status).toBe("warn");
  });

  it("a failed SSH session: one target.ssh failure with the SSH error's fix, the target checks skip, nothing is probed", async () => {
    let probed = 0;
    const d: DoctorDeps = {
      target: linuxTarget,
      session: async () => {
        throw netdbgError("E801", { user: "root", host: "10.0.2.15", port: 22, methods: "publickey" } as never);
      },
      linuxFacts: async () => {
        probed++;
        return linuxFacts();
      },
    };
    const results = await runChecks(d, [sshCheck, nicCheck, kconfigCheck, lockdownCheck, headersCheck, kgdboeCheck]);
    expect(results.filter((r) => r.status === "fail").map((r) => r.id)).toEqual(["target.ssh"]);
    expect(results[0]!.code).toBe("NETDBG-E801");
    for (const r of results.slice(1)) expect(r).toMatchObject({ status: "skip", message: SSH_SKIP });
    expect(probed).toBe(0);
  });
});
