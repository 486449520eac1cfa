#!/usr/bin/env node
// netdbg lab: the UDP relay between debugger clients and QEMU's `-serial udp:` chardev (kgdboc on ttyS1).
// Started by `netdbg lab up` inside the lab's network namespace, before QEMU, and kept for the VM's life.
//
// Why it exists (see shared research, "Wiring the KGDB serial port to UDP"):
// - QEMU's UDP chardev connect()s its socket to the one configured peer, so it ignores datagrams from any
//   other port; real gdb (`target remote udp:HOST:PORT`) sends from an ephemeral port.
// - If the guest writes to the UART while nothing is bound to the peer port, QEMU reads ECONNREFUSED once
//   and never reads that chardev again. The relay binds the peer port first and never lets go.
// - QEMU sends one datagram per UART byte; the relay coalesces guest->client bytes (flush after 1 ms idle or
//   1400 bytes) and uses 4 MiB socket buffers so a slow reader loses nothing.
// Replies go to whichever client address sent last (like kgdboe).
//
// usage: node serial-relay.mjs --qemu-peer 127.0.0.1:5555 --qemu-local 127.0.0.1:5556 --listen ADDR:PORT --ready FILE
import { createSocket } from "node:dgram";
import { writeFileSync } from "node:fs";

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
const MAX = 1400;

const toQemu = createSocket({ type: "udp4", recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
const toClient = createSocket({ type: "udp4", recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
let client;
let pending = [];
let pendingLen = 0;
let timer;

const flush = () => {
  timer = undefined;
  if (pendingLen === 0) return;
  const data = Buffer.concat(pending, pendingLen);
  pending = [];
  pendingLen = 0;
  if (!client) return; // nobody listening yet: drop (e.g. the kdb prompt before gdb attaches)
  for (let i = 0; i < data.length; i += MAX) toClient.send(data.subarray(i, i + MAX), client.port, client.address);
};

toQemu.on("message", (msg) => {
  pending.push(msg);
  pendingLen += msg.length;
  if (pendingLen >= MAX) {
    if (timer) clearTimeout(timer);
    flush();
  } else if (!timer) timer = setTimeout(flush, 1);
});
toClient.on("message", (msg, rinfo) => {
  if (!client || client.address !== rinfo.address || client.port !== rinfo.port) {
    // A new client: guest output from before it spoke (a kdb prompt, an old session's tail) is not its business.
    if (timer) clearTimeout(timer);
    timer = undefined;
    pending = [];
    pendingLen = 0;
  }
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
