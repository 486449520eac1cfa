/**
 * A UDP relay on loopback that sits between a KDNET target peer and the host: it can drop, duplicate, reorder and
 * delay datagrams (seeded, reproducible). The target sends to `relay.targetSide`; the relay forwards from its own
 * host-side socket to the real host, and the host's replies back to the target.
 */
import { createSocket, type Socket } from "node:dgram";
import { seededRandom as rng } from "./rng.js";

export interface RelayOptions {
  /** Where the host listens. */
  host: { address: string; port: number };
  loss?: number;
  duplicate?: number;
  reorder?: number;
  /** One-way delay added to every datagram (ms). */
  delayMs?: number;
  seed?: number;
  /** Hit the delay to within a few µs (polls the clock after sleeping most of it; costs CPU). */
  precise?: boolean;
}

export interface UdpRelay {
  /** The address/port the target must send to. */
  targetSide: { address: string; port: number };
  stats: { forwarded: number; dropped: number; duplicated: number; reordered: number };
  close(): Promise<void>;
}

function bind(sock: Socket, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    sock.once("error", reject);
    sock.bind(port, "127.0.0.1", () => resolve(sock.address().port));
  });
}

export async function startRelay(opts: RelayOptions): Promise<UdpRelay> {
  const rand = rng(opts.seed ?? 12345);
  const tSock = createSocket("udp4");
  const hSock = createSocket("udp4");
  tSock.on("error", () => {});
  hSock.on("error", () => {});
  const tPort = await bind(tSock);
  await bind(hSock);
  let target: { address: string; port: number } | undefined;
  const stats = { forwarded: 0, dropped: 0, duplicated: 0, reordered: 0 };
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  const held: { fn: () => void }[] = [];

  // Node timers fire late by up to ~1 ms; for a precise delay, sleep most of it, then poll with setImmediate.
  const later = (ms: number, fn: () => void) => {
    if (ms <= 0) {
      fn();
      return;
    }
    const deadline = process.hrtime.bigint() + BigInt(Math.round(ms * 1e6));
    const spin = () => {
      if (closed) return;
      if (process.hrtime.bigint() >= deadline) fn();
      else setImmediate(spin);
    };
    if (!opts.precise || ms <= 1.5) {
      if (opts.precise) {
        spin();
        return;
      }
      const t = setTimeout(() => {
        timers.delete(t);
        if (!closed) fn();
      }, ms);
      timers.add(t);
      return;
    }
    const t = setTimeout(() => {
      timers.delete(t);
      spin();
    }, ms - 1.5);
    timers.add(t);
  };

  const forward = (msg: Buffer, out: Socket, to: { address: string; port: number }) => {
    const r = rand();
    if (r < (opts.loss ?? 0)) {
      stats.dropped++;
      return;
    }
    const copies = rand() < (opts.duplicate ?? 0) ? 2 : 1;
    if (copies === 2) stats.duplicated++;
    const send = () => {
      for (let i = 0; i < copies; i++) {
        stats.forwarded++;
        out.send(msg, to.port, to.address);
      }
    };
    if (rand() < (opts.reorder ?? 0)) {
      // Hold this one back until after the next datagram (or 8 ms at most).
      stats.reordered++;
      const h = { fn: send };
      held.push(h);
      later(8, () => {
        const i = held.indexOf(h);
        if (i >= 0) {
          held.splice(i, 1);
          h.fn();
        }
      });
      return;
    }
    later(opts.delayMs ?? 0, () => {
      send();
      const release = held.splice(0);
      for (const h of release) h.fn();
    });
  };

  tSock.on("message", (msg, rinfo) => {
    target = { address: rinfo.address, port: rinfo.port };
    forward(msg, hSock, opts.host);
  });
  hSock.on("message", (msg) => {
    if (target) forward(msg, tSock, target);
  });

  return {
    targetSide: { address: "127.0.0.1", port: tPort },
    stats,
    close: async () => {
      closed = true;
      for (const t of timers) clearTimeout(t);
      await Promise.all([new Promise<void>((r) => tSock.close(() => r())), new Promise<void>((r) => hSock.close(() => r()))]);
    },
  };
}
