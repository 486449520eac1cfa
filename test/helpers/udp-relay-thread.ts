/**
 * The delaying UDP relay of udp-relay.ts, run on its own thread (worker_threads) so its timing does not depend on
 * the event loop of the host and peer under test: for benchmarks. Delay only (no loss/duplication/reordering);
 * precise to a few µs (sleeps most of the delay, then polls the clock).
 */
import { Worker } from "node:worker_threads";
import type { UdpRelay } from "./udp-relay.js";

const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const dgram = require("node:dgram");
const { host, delayMs } = workerData;
const t = dgram.createSocket("udp4");
const h = dgram.createSocket("udp4");
let target;
let closed = false;
const stats = { forwarded: 0, dropped: 0, duplicated: 0, reordered: 0 };
const delayNs = BigInt(Math.round(delayMs * 1e6));
const queue = [];
let spinning = false;
function pump() {
  spinning = false;
  if (closed) return;
  const now = process.hrtime.bigint();
  while (queue.length && queue[0].at <= now) {
    const q = queue.shift();
    stats.forwarded++;
    q.sock.send(q.msg, q.to.port, q.to.address);
  }
  if (!queue.length) return;
  const waitMs = Number(queue[0].at - now) / 1e6;
  spinning = true;
  if (waitMs > 1.5) setTimeout(pump, waitMs - 1.5);
  else setImmediate(pump);
}
function forward(msg, sock, to) {
  queue.push({ at: process.hrtime.bigint() + delayNs, msg, sock, to });
  if (!spinning) pump();
}
t.on("message", (m, r) => { target = { address: r.address, port: r.port }; forward(m, h, host); });
h.on("message", (m) => { if (target) forward(m, t, target); });
t.bind(0, "127.0.0.1", () => h.bind(0, "127.0.0.1", () => parentPort.postMessage({ port: t.address().port })));
parentPort.on("message", (m) => {
  if (m === "close") { closed = true; t.close(); h.close(); parentPort.postMessage({ closed: true, stats }); }
});
`;

export function startThreadedRelay(opts: { host: { address: string; port: number }; delayMs: number }): Promise<UdpRelay> {
  const w = new Worker(WORKER, { eval: true, workerData: { host: opts.host, delayMs: opts.delayMs } });
  const stats = { forwarded: 0, dropped: 0, duplicated: 0, reordered: 0 };
  return new Promise((resolve, reject) => {
    w.once("error", reject);
    w.once("message", (m: { port: number }) => {
      resolve({
        targetSide: { address: "127.0.0.1", port: m.port },
        stats,
        close: () =>
          new Promise<void>((done) => {
            w.once("message", (r: { stats: typeof stats }) => {
              Object.assign(stats, r.stats);
              void w.terminate().then(() => done());
            });
            w.postMessage("close");
          }),
      });
    });
  });
}
