/**
 * KDNET engine benchmark (issue 7): against the test peer over real UDP on loopback,
 *  - bytes/s (bytesPerSecond) of a 4 MiB ReadVirtualMemory through a relay (own thread) that adds a set one-way delay, and its ratio to the
 *    stop-and-wait limit (chunk size / round-trip time): ratioToLimit uses the nominal RTT = 2 × delay,
 *    ratioToMeasuredRttLimit the median GetVersion round trip through the same relay;
 *  - the same read with no relay (raw loopback);
 *  - the host's ACK turnaround (datagram received → ACK handed to the socket), median and p95, on loopback.
 * Targets: ≥ 90 % of the limit; ACK turnaround ≤ 0.05 ms median (WinDbg measured 0.21 ms in CAP1).
 * Env: KDNET_BENCH_DELAY_MS (default 2), KDNET_BENCH_MIB (default 4).
 */
import { availableParallelism, loadavg } from "node:os";
import { parseKdnetKey } from "../src/core/kdnet-key.js";
import { DEFAULT_CHUNK, KdClient } from "../src/engine/kdnet/api.js";
import { KdnetHostSession } from "../src/engine/kdnet/session.js";
import { openUdp } from "../src/engine/kdnet/udp.js";
import { BULK_BASE, bulkByte, KdnetTargetPeer } from "../src/peers/kdnet-target/index.js";
import type { UdpRelay } from "../test/helpers/udp-relay.js";
import { startThreadedRelay } from "../test/helpers/udp-relay-thread.js";

export const name = "kdnet";

const KEY = parseKdnetKey("1a2b3c.4d5e6f.7g8h9i.0j1k2l");

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
}

async function setup(opts: { delayMs?: number; bytes: number; onAck?: (ns: number) => void }) {
  const hostT = await openUdp({ port: 0, address: "127.0.0.1" });
  const host = new KdnetHostSession({
    transport: hostT,
    key: KEY,
    retransmitMs: 500,
    ...(opts.onAck ? { onAckTurnaround: opts.onAck } : {}),
  });
  let relay: UdpRelay | undefined;
  let to = hostT.local;
  if (opts.delayMs !== undefined) {
    relay = await startThreadedRelay({ host: hostT.local, delayMs: opts.delayMs });
    to = relay.targetSide;
  }
  const peerT = await openUdp({ port: 0, address: "127.0.0.1" });
  const peer = new KdnetTargetPeer({ transport: peerT, key: KEY, host: to, pokeIntervalMs: 50, bulkSize: opts.bytes });
  peer.start();
  await host.waitForHandshake(10_000);
  const kd = new KdClient(host, { chunk: DEFAULT_CHUNK });
  await kd.breakIn();
  return {
    host,
    kd,
    close: async () => {
      await host.close();
      await peer.close();
      await relay?.close();
    },
  };
}

async function timedRead(kd: KdClient, bytes: number): Promise<{ seconds: number; ok: boolean }> {
  const t0 = process.hrtime.bigint();
  const data = await kd.readVirtual(BULK_BASE, bytes);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  let ok = data.length === bytes;
  for (let i = 0; ok && i < bytes; i += 4093) ok = data[i] === bulkByte(i);
  return { seconds, ok };
}

export async function run(): Promise<Record<string, unknown>> {
  const delayMs = Number(process.env.KDNET_BENCH_DELAY_MS ?? 2);
  const bytes = Number(process.env.KDNET_BENCH_MIB ?? 4) * 1024 * 1024;

  // 1. Through the delaying relay.
  const d = await setup({ delayMs, bytes });
  const rtts: number[] = [];
  for (let i = 0; i < 10; i++) await d.kd.getVersion(); // warm-up
  for (let i = 0; i < 50; i++) {
    const t0 = process.hrtime.bigint();
    await d.kd.getVersion();
    rtts.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const delayed = await timedRead(d.kd, bytes);
  await d.close();
  const rttMeasuredMs = quantile(rtts, 0.5);
  const bps = bytes / delayed.seconds;
  const limitNominal = DEFAULT_CHUNK / ((2 * delayMs) / 1000);
  const limitMeasured = DEFAULT_CHUNK / (rttMeasuredMs / 1000);

  // 2. Raw loopback, with the host's ACK turnaround recorded.
  const acks: number[] = [];
  const l = await setup({ bytes, onAck: (ns) => acks.push(ns) });
  acks.length = 0;
  const loop = await timedRead(l.kd, bytes);
  await l.close();

  return {
    chunkBytes: DEFAULT_CHUNK,
    readBytes: bytes,
    oneWayDelayMs: delayMs,
    rttNominalMs: 2 * delayMs,
    rttMeasuredMs: Number(rttMeasuredMs.toFixed(3)),
    bytesPerSecond: Math.round(bps),
    delayedSeconds: Number(delayed.seconds.toFixed(3)),
    delayedByteExact: delayed.ok,
    limitBytesPerSecond: Math.round(limitNominal),
    ratioToLimit: Number((bps / limitNominal).toFixed(3)),
    ratioToMeasuredRttLimit: Number((bps / limitMeasured).toFixed(3)),
    loopbackBytesPerSecond: Math.round(bytes / loop.seconds),
    loopbackByteExact: loop.ok,
    hostAckTurnaroundMedianMs: Number((quantile(acks, 0.5) / 1e6).toFixed(4)),
    hostAckTurnaroundP95Ms: Number((quantile(acks, 0.95) / 1e6).toFixed(4)),
    hostAckSamples: acks.length,
    /** The machine's 1-minute load average per CPU while measuring: above ~1 the figures are scheduling-bound. */
    loadPerCpu: Number((loadavg()[0]! / availableParallelism()).toFixed(2)),
    targets: { ratioToLimit: ">= 0.90", hostAckTurnaroundMedianMs: "<= 0.05 (WinDbg 0.21)" },
  };
}

// Run directly: `npx tsx bench/kdnet.ts`
if (import.meta.url === `file://${process.argv[1]}`) {
  run().then(
    (r) => {
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      process.exit(0);
    },
    (e) => {
      process.stderr.write(`${String(e?.stack ?? e)}\n`);
      process.exit(1);
    },
  );
}
