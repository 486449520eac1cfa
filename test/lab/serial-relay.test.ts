/** The kgdboc serial relay (templates/lab/serial-relay.mjs) with real UDP sockets on loopback. */
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freeUdpPort } from "../helpers/ports.js";
import { SerialRelayProcess } from "../helpers/relay-process.js";

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

/**
 * Plays the guest's UART in a process of its own (a busy wait paces it; this process's event loop runs the relay):
 * `bursts` replies of `bytes` bytes, one datagram per byte `gapUs` apart like QEMU's serial chardev, 15 ms apart.
 * Prints each burst's longest gap between two sends (ms): a burst in which this process was descheduled for a
 * millisecond really paused, and a relay may cut it there.
 */
const UART = `
const dgram = require("node:dgram");
const [port, bursts, bytes, gapUs] = process.argv.slice(1).map(Number);
const s = dgram.createSocket("udp4");
const longest = [];
s.connect(port, "127.0.0.1", async () => {
  for (let b = 0; b < bursts; b++) {
    let last = 0;
    longest.push(0);
    for (let i = 0; i < bytes; i++) {
      const until = performance.now() + gapUs / 1000;
      while (performance.now() < until) {}
      s.send(Buffer.of(0x41 + b));
      const now = performance.now();
      if (i > 0) longest[b] = Math.max(longest[b], now - last);
      last = now;
    }
    await new Promise((r) => setTimeout(r, 15));
  }
  process.stdout.write(JSON.stringify(longest));
  s.close(() => process.exit(0));
});`;

/** Busy for `ms`: the event loop of this process does not run. */
const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
};

/** Stop a process for 3 ms, as a busy machine's scheduler does. */
const stopFor3ms = (pid: number) => () => {
  process.kill(pid, "SIGSTOP");
  busy(3);
  process.kill(pid, "SIGCONT");
};

/**
 * Send `bursts` replies through a relay whose QEMU side is `peer` to `client` (already known to the relay), while
 * `stallRelay` holds the relay up for a few milliseconds every 6 ms (as the kernel does to a process on a busy
 * machine: its timer then comes due before it has read the bytes that arrived meanwhile). Every reply the UART sent
 * without a pause of 0.9 ms must arrive as one datagram. Returns how many were so sent.
 */
async function expectWholeReplies(peer: number, client: Socket, stallRelay: () => void, bursts = 20, bytes = 12, gapUs = 300) {
  const got: Buffer[] = [];
  const onMessage = (m: Buffer) => got.push(m);
  client.on("message", onMessage);
  const uart = spawn(process.execPath, ["-e", UART, String(peer), String(bursts), String(bytes), String(gapUs)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  uart.stdout!.on("data", (d) => {
    out += d;
  });
  const stalls = setInterval(stallRelay, 6);
  await new Promise((r) => uart.once("exit", r));
  clearInterval(stalls);
  for (let i = 0; i < 100 && Buffer.concat(got).length < bursts * bytes; i++) await new Promise((r) => setTimeout(r, 10));
  client.off("message", onMessage);
  const letter = (b: number) => String.fromCharCode(0x41 + b);
  expect(Buffer.concat(got).toString()).toBe(Array.from({ length: bursts }, (_, b) => letter(b).repeat(bytes)).join(""));
  const longest = JSON.parse(out) as number[];
  const unpaused = longest.flatMap((ms, b) => (ms < 0.9 ? [letter(b)] : []));
  // a relay held up for longer than the UART's 15 ms pause sends two replies as one datagram: that cuts nothing
  const datagrams = (l: string) =>
    got.filter((m) => m.includes(l)).map((m) => m.toString().replace(/(.)\1*/g, (r) => (r[0] === l ? r : "")));
  for (const l of unpaused) expect({ reply: l, datagrams: datagrams(l) }).toEqual({ reply: l, datagrams: [l.repeat(bytes)] });
  return unpaused.length;
}

/**
 * expectWholeReplies until 5 replies went out without a pause (a loaded machine deschedules the UART's busy wait
 * now and then; those replies prove nothing), at most 6 rounds: how many did.
 */
async function unpausedWholeReplies(peer: number, client: Socket, stallRelay: () => void): Promise<number> {
  let unpaused = 0;
  for (let round = 0; round < 6 && unpaused < 5; round++) unpaused += await expectWholeReplies(peer, client, stallRelay);
  return unpaused;
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

  it("keeps a reply whole when the guest sends it without a 1 ms pause (300 µs between bytes)", async () => {
    const client = createSocket("udp4");
    await bound(client);
    client.send("+", listen, "127.0.0.1"); // the relay answers whoever spoke last
    await new Promise((r) => setTimeout(r, 50));
    // a timer that flushed 1 ms after the first byte cut each 3.3 ms reply into ~3 datagrams
    expect(await unpausedWholeReplies(peer, client, stopFor3ms(child.pid!))).toBeGreaterThan(0);
    client.close();
  });
});

describe("the benchmark's serial relay (test/helpers/serial-relay.ts in a process of its own)", () => {
  it("keeps a reply whole when the guest sends it without a 1 ms pause (300 µs between bytes)", async () => {
    const relay = new SerialRelayProcess(["--import", "tsx"]);
    const qemu = createSocket("udp4");
    await bound(qemu);
    await relay.start(qemu.address().port);
    const client = createSocket("udp4");
    await bound(client);
    try {
      client.send("+", relay.port, "127.0.0.1");
      await new Promise((r) => setTimeout(r, 50));
      // its own timer, re-armed at each byte, fired before the relay had read the bytes that came during a stop
      expect(await unpausedWholeReplies(relay.peerPort, client, stopFor3ms(relay.pid!))).toBeGreaterThan(0);
    } finally {
      client.close();
      qemu.close();
      await relay.stop();
    }
  });
});
