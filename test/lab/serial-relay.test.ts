/** The kgdboc serial relay (templates/lab/serial-relay.mjs) with real UDP sockets on loopback. */
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freeUdpPort } from "../helpers/ports.js";

const script = new URL("../../templates/lab/serial-relay.mjs", import.meta.url).pathname;

const bound = (s: Socket, port = 0) => new Promise<void>((r) => s.bind(port, "127.0.0.1", () => r()));

function collect(s: Socket) {
  const got: Buffer[] = [];
  s.on("message", (m) => got.push(m));
  return {
    got,
    until: async (pred: (text: string) => boolean) => {
      for (let i = 0; i < 200; i++) {
        if (pred(Buffer.concat(got).toString())) return Buffer.concat(got).toString();
        await new Promise((r) => setTimeout(r, 10));
      }
      return Buffer.concat(got).toString();
    },
  };
}

describe("serial relay", () => {
  let child: ChildProcess;
  let qemu: Socket; // plays QEMU's UDP chardev: bound to LOCAL, sends only to PEER
  let peer: number;
  let local: number;
  let listen: number;
  const dir = mkdtempSync(join(tmpdir(), "lab-relay-"));

  beforeAll(async () => {
    [peer, local, listen] = [await freeUdpPort(), await freeUdpPort(), await freeUdpPort()];
    qemu = createSocket("udp4");
    await bound(qemu, local);
    const ready = join(dir, "ready");
    child = spawn(
      process.execPath,
      [
        script,
        "--qemu-peer",
        `127.0.0.1:${peer}`,
        "--qemu-local",
        `127.0.0.1:${local}`,
        "--listen",
        `127.0.0.1:${listen}`,
        "--ready",
        ready,
      ],
      {
        stdio: "ignore",
      },
    );
    for (let i = 0; i < 200 && !existsSync(ready); i++) await new Promise((r) => setTimeout(r, 10));
    expect(existsSync(ready)).toBe(true);
  });

  afterAll(() => {
    child.kill("SIGTERM");
    qemu.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("binds QEMU's peer port before any client exists, so guest output never meets a closed port", async () => {
    // Guest writes before anyone attached (kdb prompt): the relay swallows it; nothing is sent anywhere.
    await new Promise<void>((r) => qemu.send(Buffer.from("[0]kdb> "), peer, "127.0.0.1", () => r()));
    const probe = createSocket("udp4");
    const code = await new Promise<string>((r) => {
      probe.once("error", (e: NodeJS.ErrnoException) => r(e.code ?? "?"));
      probe.bind(peer, "127.0.0.1", () => r("bound"));
    });
    expect(code).toBe("EADDRINUSE");
    probe.close();
  });

  it("forwards client datagrams from any port to QEMU, and coalesces QEMU's per-byte output back to that client", async () => {
    const fromQemu = collect(qemu);
    const client = createSocket("udp4");
    await bound(client);
    const toClient = collect(client);
    client.send("$?#3f", listen, "127.0.0.1");
    expect(await fromQemu.until((t) => t === "$?#3f")).toBe("$?#3f");
    for (const ch of "+$S05#b8") qemu.send(ch, peer, "127.0.0.1"); // one datagram per UART byte, like QEMU
    expect(await toClient.until((t) => t.length >= 8)).toBe("+$S05#b8");
    expect(toClient.got.length).toBeLessThan(8);
    client.close();
  });
});
