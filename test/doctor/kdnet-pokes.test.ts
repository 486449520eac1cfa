/**
 * `netdbg doctor <windows-target> --json` end to end through the real CLI entry (main), the real SSH adapter
 * against the Windows target model behind the in-process ssh2 server, and a KDNET target peer
 * (src/peers/kdnet-target) sending real pokes over loopback UDP to the target's port. The faults are real: the
 * peer pokes with another key, or the model's dbgsettings name another port or host, or debugging is off.
 */
import { afterEach, describe, expect, it } from "vitest";
import { generateKdnetKey, parseKdnetKey } from "../../src/core/kdnet-key.js";
import type { DatagramTransport } from "../../src/engine/kdnet/transport.js";
import { openUdp } from "../../src/engine/kdnet/udp.js";
import { KdnetTargetPeer } from "../../src/peers/kdnet-target/index.js";
import { defaultState, WindowsTargetModel } from "../../src/peers/windows-target/model.js";
import { runMain } from "../helpers/main.js";
import { freeUdpPort } from "../helpers/ports.js";
import { windowsPeerHome } from "../helpers/netdbg-home.js";
import { KEY } from "../helpers/windows-config.js";

let model: WindowsTargetModel;
const home = windowsPeerHome({ label: "doctor-kdnet", key: KEY, model: () => model, hostIp: "127.0.0.1" });
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A model configured the way setup leaves it: dbgsettings NET to host:port with `key`, debugging on. */
function configuredModel(o: { key?: string; hostip?: string; port?: number; debug?: boolean } = {}): WindowsTargetModel {
  const m = new WindowsTargetModel(defaultState({ bitlocker: [] }));
  const set = m.bcd([
    "/dbgsettings",
    "net",
    `hostip:${o.hostip ?? "127.0.0.1"}`,
    `port:${o.port ?? home.port}`,
    `key:${o.key ?? KEY}`,
  ]);
  expect(set.exitCode).toBe(0);
  if (o.debug !== false) expect(m.bcd(["/debug", "{current}", "on"]).exitCode).toBe(0);
  return m;
}

/** What a booted KDNET target does: poke 127.0.0.1:`to` every 200 ms with `key`. */
async function startPeer(key: string, to = home.port): Promise<KdnetTargetPeer> {
  const transport: DatagramTransport = await openUdp({ port: 0, address: "127.0.0.1" });
  const peer = new KdnetTargetPeer({
    transport,
    key: parseKdnetKey(key),
    host: { address: "127.0.0.1", port: to },
    pokeIntervalMs: 200,
  });
  cleanups.push(async () => {
    await peer.close();
    await transport.close();
  });
  peer.start();
  return peer;
}

interface Report {
  verdict: string;
  reports: {
    target: string;
    checks: { id: string; status: string; message: string; fix?: string; code?: string; doc?: string }[];
  }[];
}

async function doctor(...extra: string[]): Promise<{ code: number; out: Report; raw: string }> {
  const { code, stdout: raw } = await runMain(["--json", "doctor", "win", "--listen-seconds", "3", ...extra]);
  return { code, out: JSON.parse(raw) as Report, raw };
}

const check = (r: Report, id: string) => r.reports[0]!.checks.find((c) => c.id === id)!;

describe("doctor names KDNET faults from real pokes", () => {
  it("pokes with another key: kdnet.pokes fails with the wrong-key code and its fix; no key is printed", async () => {
    model = configuredModel();
    const other = generateKdnetKey().text;
    const peer = await startPeer(other);
    const r = await doctor();
    expect(r.code).toBe(1);
    const c = check(r.out, "kdnet.pokes");
    expect(c).toMatchObject({ status: "fail", code: "NETDBG-E704", doc: "docs/doctor/kdnet.pokes.md" });
    expect(c.message).toContain(`reach UDP port ${home.port}`);
    expect(c.message).toContain("do not authenticate");
    expect(c.fix).toContain("netdbg keys show win");
    expect(c.fix).toContain("netdbg setup win");
    expect(r.raw).not.toContain(KEY);
    expect(r.raw).not.toContain(other);
    // the host only listened: the peer never got an answer
    expect(peer.stats.pokes).toBeGreaterThan(0);
    expect(peer.connected).toBe(false);
  });

  it("pokes with the stored key: kdnet.pokes ok, and the BCD, NIC and Secure Boot checks read the model over SSH", async () => {
    model = configuredModel();
    await startPeer(KEY);
    const r = await doctor();
    expect(check(r.out, "kdnet.pokes")).toMatchObject({ status: "ok" });
    expect(check(r.out, "kdnet.pokes").message).toContain("authenticate with the stored key");
    expect(check(r.out, "target.ssh").status).toBe("ok");
    expect(check(r.out, "windows.bcd")).toMatchObject({ status: "ok" });
    expect(check(r.out, "windows.secureboot").status).toBe("ok");
    expect(check(r.out, "target.nic")).toMatchObject({ status: "ok", message: expect.stringContaining("8086:10D3") });
    // the model runs only netdbg's templates: the datagram command is refused, so doctor falls back and says so
    expect(check(r.out, "host.firewall").message).toMatch(
      /^Static probe only \(no datagram test: the target could not send a datagram \(model: not a netdbg script/,
    );
    expect(r.raw).not.toContain(KEY);
  });

  it("no pokes, dbgsettings name another port: both the BCD check and kdnet.pokes name the port", async () => {
    const other = home.port === 65000 ? 65001 : 65000;
    model = configuredModel({ port: other });
    const r = await doctor("--listen-seconds", "0.5");
    expect(check(r.out, "windows.bcd")).toMatchObject({ status: "fail", code: "NETDBG-E709" });
    expect(check(r.out, "windows.bcd").message).toContain(`port is ${other} (inventory: ${home.port})`);
    expect(check(r.out, "kdnet.pokes")).toMatchObject({ status: "fail", code: "NETDBG-E705" });
  });

  it("no pokes, dbgsettings name another host address: wrong host IP", async () => {
    model = configuredModel({ hostip: "192.0.2.10" });
    const r = await doctor("--listen-seconds", "0.5");
    expect(check(r.out, "kdnet.pokes")).toMatchObject({ status: "fail", code: "NETDBG-E706" });
    expect(check(r.out, "kdnet.pokes").message).toContain("192.0.2.10");
  });

  it("no pokes, settings right but the running entry does not debug: not booted into the debug entry", async () => {
    model = configuredModel({ debug: false });
    const r = await doctor("--listen-seconds", "0.5");
    expect(check(r.out, "kdnet.pokes")).toMatchObject({ status: "fail", code: "NETDBG-E707" });
  });

  it("pokes with the right key to another port than the inventory's: named as the wrong port", async () => {
    const other = await freeUdpPort({ debug: true });
    model = configuredModel({ port: other });
    await startPeer(KEY, other);
    const r = await doctor();
    expect(check(r.out, "kdnet.pokes")).toMatchObject({ status: "fail", code: "NETDBG-E705" });
    expect(check(r.out, "kdnet.pokes").message).toContain(`pokes UDP port ${other}`);
  });
});
