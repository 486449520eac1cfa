import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandResult, CommandRunner, PowerShellRunner } from "../../src/core/interfaces.js";
import {
  FIND_NET_ROUTE_PS,
  hostRoute,
  linuxMedium,
  type NetProbe,
  parseIpLink,
  parseIpRouteGet,
  windowsRouteFromJson,
} from "../../src/host/route.js";
import { ExecaCommandRunner } from "../../src/io/command-runner.js";
import { SystemNetProbe } from "../../src/io/net-probe.js";
import { netdbgInNetns } from "../fakes/cli-in-netns.js";
import { NetnsPair, requireTool } from "../fakes/netns.js";

const SHARED = new URL("../fixtures/linux/", import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, SHARED), "utf8");
const local = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");

/** The JSON line printed right after the `$ <command>` line of a capture. */
function outputOf(text: string, command: string): string {
  const lines = text.split("\n");
  const i = lines.findIndex((l) => l.replace(/\s+#.*$/, "").trim() === `$ ${command}`);
  if (i < 0) throw new Error(`no '${command}' in fixture`);
  return lines[i + 1]!;
}

describe("iproute2 parsers (real captures)", () => {
  const shared = fixture("ip-route-get-and-udp-connect.txt");
  it("reads gateway, dev and prefsrc of a routed destination", () => {
    const r = parseIpRouteGet(outputOf(shared, "ip -j route get 1.1.1.1"));
    expect(r).toMatchObject({ dst: "1.1.1.1", gateway: "192.0.2.1", dev: "eth0", prefsrc: "192.0.2.2" });
  });
  it("an on-link destination has no gateway", () => {
    const r = parseIpRouteGet(outputOf(shared, "ip -j route get 192.0.2.1"));
    expect(r.gateway).toBeUndefined();
    expect(r.dev).toBe("eth0");
  });
  const caps = local("ip-link-route-netns.txt");
  it("a local route is type local on lo", () => {
    expect(parseIpRouteGet(outputOf(caps, "ip -j route get 127.0.0.1"))).toMatchObject({ type: "local", dev: "lo" });
  });
  it("classifies lo, veth and tun links", () => {
    const lo = parseIpLink(outputOf(caps, "ip -j -d link show dev lo"));
    const veth = parseIpLink(outputOf(caps, "ip -j -d link show dev nd-host-c0"));
    const tun = parseIpLink(outputOf(caps, "ip -j -d link show dev nd-host-tun0"));
    expect([linuxMedium(lo, false), lo.mtu]).toEqual(["loopback", 65536]);
    expect([linuxMedium(veth, false), veth.mtu]).toEqual(["ethernet", 1500]);
    expect(linuxMedium(veth, true)).toBe("wireless");
    expect(linuxMedium(tun, false)).toBe("tunnel");
  });
  it("rejects output that is not iproute2 JSON with a coded error", () => {
    expect(() => parseIpRouteGet("RTNETLINK answers: Network is unreachable")).toThrow(/NETDBG|could not be read/);
  });
});

/** A NetProbe whose facts are given (for table-driven cases). */
function fakeNet(over: Partial<NetProbe> = {}): NetProbe {
  return {
    resolve: async () => [],
    localAddressFor: async () => "192.0.2.2",
    interfaces: () => ({ eth0: [{ address: "192.0.2.2", family: 4, internal: false }] }),
    exists: async () => false,
    ...over,
  };
}

function tableRunner(table: Record<string, CommandResult>): CommandRunner & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async run(file, args) {
      const key = [file, ...args].join(" ");
      calls.push(key);
      const r = table[key];
      if (!r) throw new Error(`unexpected command: ${key}`);
      return r;
    },
  };
}
const ok = (stdout: string): CommandResult => ({ stdout, stderr: "", exitCode: 0 });

describe("route warnings (command-table runner)", () => {
  it("a wireless NIC gives a wireless warning and wired=false", async () => {
    const runner = tableRunner({
      "ip -j route get 192.0.2.10": ok(
        '[{"dst":"192.0.2.10","dev":"wlp2s0","prefsrc":"192.0.2.2","flags":[],"uid":0,"cache":[]}]',
      ),
      "ip -j -d link show dev wlp2s0": ok('[{"ifname":"wlp2s0","mtu":1500,"link_type":"ether","flags":["UP"]}]'),
    });
    const net = fakeNet({ exists: async (p) => p === "/sys/class/net/wlp2s0/phy80211" });
    const rep = await hostRoute("192.0.2.10", { net, platform: "linux", runner });
    const r = rep.candidates[0]!;
    expect(r).toMatchObject({ interface: "wlp2s0", medium: "wireless", wired: false, mtu: 1500 });
    expect(r.warnings.map((w) => w.kind)).toEqual(["wireless"]);
  });
  it("a WireGuard route warns about VPN; a wired one does not warn", async () => {
    const runner = tableRunner({
      "ip -j route get 10.8.0.5": ok('[{"dst":"10.8.0.5","dev":"wg0","prefsrc":"10.8.0.2","flags":[],"uid":0,"cache":[]}]'),
      "ip -j -d link show dev wg0": ok('[{"ifname":"wg0","mtu":1420,"link_type":"none","linkinfo":{"info_kind":"wireguard"}}]'),
      "ip -j route get 192.0.2.1": ok('[{"dst":"192.0.2.1","dev":"eth0","prefsrc":"192.0.2.2","flags":[],"uid":0,"cache":[]}]'),
      "ip -j -d link show dev eth0": ok('[{"ifname":"eth0","mtu":1500,"link_type":"ether"}]'),
    });
    const vpn = await hostRoute("10.8.0.5", {
      net: fakeNet({ localAddressFor: async () => "10.8.0.2" }),
      platform: "linux",
      runner,
    });
    expect(vpn.candidates[0]!.warnings.map((w) => w.kind)).toEqual(["vpn"]);
    const wired = await hostRoute("192.0.2.1", { net: fakeNet(), platform: "linux", runner });
    expect(wired.candidates[0]).toMatchObject({ medium: "ethernet", wired: true, warnings: [] });
  });
  it("a DNS name lists every resolved candidate", async () => {
    const net = fakeNet({ resolve: async () => ["127.0.0.1", "::1"], localAddressFor: async (a) => a });
    const rep = await hostRoute("target.example", { net, platform: "darwin" });
    expect(rep.candidates.map((c) => c.address)).toEqual(["127.0.0.1", "::1"]);
    expect(rep.candidates.every((c) => c.warnings.some((w) => w.kind === "loopback"))).toBe(true);
  });
  it("a name that does not resolve is NETDBG-E100; a multicast address is E102", async () => {
    const net = fakeNet({
      resolve: async () => {
        throw new Error("getaddrinfo ENOTFOUND");
      },
    });
    await expect(hostRoute("nope.invalid", { net, platform: "linux" })).rejects.toMatchObject({ code: "NETDBG-E100" });
    await expect(hostRoute("224.0.0.1", { net, platform: "linux" })).rejects.toMatchObject({ code: "NETDBG-E102" });
  });
  it("link-local addresses warn", async () => {
    const net = fakeNet({ localAddressFor: async () => "169.254.3.4" });
    const rep = await hostRoute("169.254.3.9", { net, platform: "freebsd" });
    expect(rep.candidates[0]!.warnings.map((w) => w.kind)).toContain("link-local");
  });
});

describe("Windows route (injected PowerShellRunner)", () => {
  it("passes the address as a parameter and reads Find-NetRoute's JSON", async () => {
    const seen: unknown[] = [];
    const ps: PowerShellRunner = {
      async invoke(script, params) {
        seen.push([script, params]);
        return ok(
          '{"localAddress":"192.0.2.2","interfaceAlias":"Wi-Fi","interfaceIndex":12,"nextHop":"192.0.2.1","mtu":1500,"physicalMediaType":"Native 802.11","description":"Intel(R) Wi-Fi 6 AX201"}',
        );
      },
      async dispose() {},
    };
    const rep = await hostRoute("198.51.100.7", { net: fakeNet(), platform: "win32", ps });
    expect(seen).toEqual([[FIND_NET_ROUTE_PS, { Address: "198.51.100.7" }]]);
    expect(rep.candidates[0]).toMatchObject({
      interface: "Wi-Fi",
      gateway: "192.0.2.1",
      medium: "wireless",
      source: "find-netroute",
    });
  });
  it("maps VPN adapters and wired 802.3", () => {
    const base = { localAddress: "10.0.0.2", interfaceAlias: "x", interfaceIndex: 3 };
    expect(
      windowsRouteFromJson("10.0.0.9", { ...base, physicalMediaType: "Unspecified", description: "WireGuard Tunnel" }).medium,
    ).toBe("tunnel");
    expect(windowsRouteFromJson("10.0.0.9", { ...base, physicalMediaType: "802.3", nextHop: "0.0.0.0" })).toMatchObject({
      medium: "ethernet",
      wired: true,
    });
  });
});

describe("real route on this machine", () => {
  it("127.0.0.1 answers 127.0.0.1 on lo with a loopback warning (real UDP socket and iproute2)", async () => {
    requireTool("ip", "iproute2");
    const rep = await hostRoute("127.0.0.1", { net: new SystemNetProbe(), platform: "linux", runner: new ExecaCommandRunner() });
    const r = rep.candidates[0]!;
    expect(r.localAddress).toBe("127.0.0.1");
    expect(r.interface).toBe("lo");
    expect(r.warnings[0]!.kind).toBe("loopback");
  });

  describe("inside a network namespace (veth + tun)", () => {
    const pair = new NetnsPair("rt", 241);
    beforeAll(async () => {
      requireTool("ip", "iproute2");
      requireTool("nsenter", "util-linux");
      await pair.create();
      pair.inHost("ip", "tuntap", "add", "dev", "ndh-tun0", "mode", "tun");
      pair.inHost("ip", "addr", "add", "10.231.242.1/24", "dev", "ndh-tun0");
      pair.inHost("ip", "link", "set", "ndh-tun0", "up");
    });
    afterAll(() => pair.destroy());

    type CliRoute = { localAddress: string; interface: string; medium: string; wired?: boolean; warnings: { kind: string }[] };
    const cli = (addr: string): { candidates: CliRoute[] } => {
      const r = netdbgInNetns(pair, ["--json", "host", addr]);
      if (r.status !== 0) throw new Error(`netdbg host ${addr} exited ${r.status}: ${r.stdout}${r.stderr}`);
      return JSON.parse(r.stdout) as { candidates: CliRoute[] };
    };

    it("the CLI answers 127.0.0.1 with a loopback warning", () => {
      const r = cli("127.0.0.1").candidates[0]!;
      expect(r).toMatchObject({ localAddress: "127.0.0.1", interface: "lo", medium: "loopback" });
      expect(r.warnings[0]!.kind).toBe("loopback");
    });
    it("the CLI finds the veth address, wired Ethernet, no warning", () => {
      const r = cli(pair.targetIp).candidates[0]!;
      expect(r).toMatchObject({ localAddress: pair.hostIp, medium: "ethernet", wired: true });
      expect(r.interface).toBe(pair.hostIf);
      expect(r.warnings).toEqual([]);
    });
    it("a route over the tun device warns VPN/tunnel", () => {
      const r = cli("10.231.242.9").candidates[0]!;
      expect(r).toMatchObject({ localAddress: "10.231.242.1", interface: "ndh-tun0", medium: "tunnel" });
      expect(r.warnings.map((w) => w.kind)).toEqual(["vpn"]);
    });
  });
});
