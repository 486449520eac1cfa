#!/usr/bin/env node
// netdbg lab: the UDP relay between debugger clients and QEMU's `-serial udp:` chardev (kgdboc on ttyS1).
// Started by `netdbg lab up` inside the lab's network namespace, before QEMU, and kept for the VM's life.
//
// Why it exists (see shared research, "Wiring the KGDB serial port to UDP"):
// - QEMU's UDP chardev connect()s its socket to the one configured peer, so it ignores datagrams from any
//   other port; real gdb (`target remote udp:HOST:PORT`) sends from an ephemeral port.
// - If the guest writes to the UART while nothing is bound to the peer port, QEMU reads ECONNREFUSED once
//   and never reads that chardev again. The relay binds the peer port first and never lets go.
// - QEMU sends one datagram per UART byte; the relay coalesces guest->client bytes (see coalescer) and uses
//   4 MiB socket buffers so a slow reader loses nothing.
// Replies go to whichever client address sent last (like kgdboe).
//
// usage: node serial-relay.mjs --qemu-peer 127.0.0.1:5555 --qemu-local 127.0.0.1:5556 --listen ADDR:PORT --ready FILE
import { createSocket } from "node:dgram";
import { realpathSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Guest output goes out this long (ms) after its last byte... */
const IDLE_MS = 1;
/** ...or once this many bytes are waiting (and in datagrams of at most this many). */
export const MAX = 1400;

/**
 * Coalesce QEMU's one-datagram-per-byte output: `push` each datagram; `send` gets the bytes once IDLE_MS passed
 * without one, or MAX of them are waiting; `drop` forgets what waits. The idle is measured, not left to a timer:
 * a Node timer can fire up to its whole length early (the event loop's clock counts whole milliseconds), and after
 * this process was descheduled it fires before the poll phase has read the bytes that came meanwhile. Either cut
 * replies the guest sent without a pause into several datagrams (more than half of 496-byte kgdb replies on the
 * lab's link), each of which a lossy link can lose, and each a reason to read the block again. So the timer only
 * starts a look, which lets the poll phase read the socket (setImmediate) twice before it acts: a process stopped
 * between reading its socket and looking would act on a stale read.
 */
export function coalescer(send) {
  let pending = [];
  let pendingLen = 0;
  let lastAt = 0;
  let timer;
  let look;
  const cancel = () => {
    if (timer) clearTimeout(timer);
    if (look) clearImmediate(look);
    timer = undefined;
    look = undefined;
  };
  const drop = () => {
    cancel();
    pending = [];
    pendingLen = 0;
  };
  const flush = () => {
    const data = Buffer.concat(pending, pendingLen);
    drop();
    if (data.length > 0) send(data);
  };
  const lookAgain = (seen, polls) => {
    look = setImmediate(() => {
      look = undefined;
      const idle = performance.now() - lastAt;
      if (lastAt !== seen || idle < IDLE_MS) wait(IDLE_MS - Math.min(idle, IDLE_MS));
      else if (polls > 1) lookAgain(seen, polls - 1);
      else flush();
    });
  };
  const wait = (ms) => {
    timer = setTimeout(() => {
      timer = undefined;
      lookAgain(lastAt, 2);
    }, ms);
  };
  return {
    push(msg) {
      pending.push(msg);
      pendingLen += msg.length;
      lastAt = performance.now();
      if (pendingLen >= MAX) flush();
      else if (!timer && !look) wait(IDLE_MS);
    },
    drop,
  };
}

function main() {
  const args = new Map();
  for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i], process.argv[i + 1]);
  const hostPort = (v) => {
    const i = v.lastIndexOf(":");
    return [v.slice(0, i), Number(v.slice(i + 1))];
  };
  const [peerHost, peerPort] = hostPort(args.get("--qemu-peer"));
  const [qemuHost, qemuPort] = hostPort(args.get("--qemu-local"));
  const [listenHost, listenPort] = hostPort(args.get("--listen"));
  const ready = args.get("--ready");

  const toQemu = createSocket({ type: "udp4", recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  const toClient = createSocket({ type: "udp4", recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  let client;
  const output = coalescer((data) => {
    if (!client) return; // nobody listening yet: drop (e.g. the kdb prompt before gdb attaches)
    for (let i = 0; i < data.length; i += MAX) toClient.send(data.subarray(i, i + MAX), client.port, client.address);
  });
  toQemu.on("message", (msg) => output.push(msg));
  toClient.on("message", (msg, rinfo) => {
    // A new client: guest output from before it spoke (a kdb prompt, an old session's tail) is not its business.
    if (!client || client.address !== rinfo.address || client.port !== rinfo.port) output.drop();
    client = { address: rinfo.address, port: rinfo.port };
    toQemu.send(msg, qemuPort, qemuHost);
  });
  // ICMP errors (a client that went away, QEMU not yet up) are expected: never die of them.
  toQemu.on("error", (e) => process.stderr.write(`relay (qemu side): ${e.message}\n`));
  toClient.on("error", (e) => process.stderr.write(`relay (client side): ${e.message}\n`));

  let bound = 0;
  const onBound = () => {
    bound += 1;
    if (bound === 2) {
      process.stdout.write(`relay up: clients -> ${listenHost}:${listenPort}, qemu ${peerPort} <-> ${qemuPort}\n`);
      if (ready) writeFileSync(ready, `${process.pid}\n`);
    }
  };
  toQemu.bind(peerPort, peerHost, onBound);
  toClient.bind(listenPort, listenHost, onBound);
  const stop = () => {
    toQemu.close();
    toClient.close();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

// run as a program; imported (the benchmark's relay in test/helpers), only the coalescer
if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) main();
