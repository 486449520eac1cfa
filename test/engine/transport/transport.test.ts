import net from "node:net";
import dgram from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { memoryPair } from "../../../src/engine/transport/memory.js";
import { TcpTransport } from "../../../src/engine/transport/tcp.js";
import { formatEndpoint, parseEndpoint } from "../../../src/engine/transport/types.js";
import { UdpTransport } from "../../../src/engine/transport/udp.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("endpoint specs", () => {
  it("parses udp/tcp host:port, IPv6 brackets and a fixed local UDP port", () => {
    expect(parseEndpoint("udp:127.0.0.1:31337")).toEqual({ kind: "udp", host: "127.0.0.1", port: 31337 });
    expect(parseEndpoint("tcp:[::1]:2345")).toEqual({ kind: "tcp", host: "::1", port: 2345 });
    expect(parseEndpoint("udp:127.0.0.1:5556@5555")).toEqual({ kind: "udp", host: "127.0.0.1", port: 5556, localPort: 5555 });
    for (const bad of ["udp:host", "tcp:1.2.3.4:0", "tcp:h:1@2", "ssh:h:22", "udp:h:70000", "udp:a:b:1"])
      expect(parseEndpoint(bad)).toBeUndefined();
    expect(formatEndpoint(parseEndpoint("udp:[::1]:9@10")!)).toBe("udp:[::1]:9@10");
  });
});

describe("transports", () => {
  it("memory: delivers in order to the peer and closes both ends", async () => {
    const [a, b] = memoryPair();
    const got: string[] = [];
    b.onData((c) => got.push(c.toString()));
    a.write(Buffer.from("one"));
    a.write(Buffer.from("two"));
    await new Promise((r) => setTimeout(r, 1));
    expect(got).toEqual(["one", "two"]);
    await a.close();
    await new Promise((r) => setTimeout(r, 1));
    expect(b.closed).toBe(true);
  });

  it("tcp: sets TCP_NODELAY and reports the peer closing", async () => {
    const server = net.createServer((s) => {
      s.on("data", (d) => s.end(d)); // echo, then close
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as net.AddressInfo).port;
    const t = await TcpTransport.open({ kind: "tcp", host: "127.0.0.1", port });
    const closed = new Promise<void>((r) => t.onClose(() => r()));
    const echoed = new Promise<string>((r) => t.onData((c) => r(c.toString())));
    t.write(Buffer.from("$g#67"));
    expect(await echoed).toBe("$g#67");
    await closed;
    expect(t.closed).toBe(true);
    await expect(TcpTransport.open({ kind: "tcp", host: "127.0.0.1", port: 1 })).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("udp: binds a fixed local port when asked, only talks to its peer, and survives ECONNREFUSED", async () => {
    const peer = dgram.createSocket("udp4");
    await new Promise<void>((r) => peer.bind(0, "127.0.0.1", () => r()));
    const peerPort = peer.address().port;
    const probe = dgram.createSocket("udp4");
    await new Promise<void>((r) => probe.bind(0, "127.0.0.1", () => r()));
    const localPort = probe.address().port;
    await new Promise<void>((r) => probe.close(() => r()));
    const t = await UdpTransport.open({ kind: "udp", host: "127.0.0.1", port: peerPort, localPort });
    cleanups.push(() => t.close());
    expect(t.localPort).toBe(localPort);
    const from = new Promise<number>((r) => peer.once("message", (_m, rinfo) => r(rinfo.port)));
    t.write(Buffer.from("+"));
    expect(await from).toBe(localPort);
    const got = new Promise<string>((r) => t.onData((c) => r(c.toString())));
    peer.send("$OK#9a", localPort, "127.0.0.1");
    expect(await got).toBe("$OK#9a");
    await new Promise<void>((r) => peer.close(() => r()));
    for (let i = 0; i < 5; i++) {
      t.write(Buffer.from("$?#3f"));
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(t.stats.refused).toBeGreaterThan(0);
    expect(t.closed).toBe(false);
  });
});
