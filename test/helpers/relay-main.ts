/**
 * The entry of relay-process.ts's child: argv[2] is `{kind: "serial", qemuLocalPort}` or `{kind: "lossy",
 * options}`. It prints one JSON line with its ports once listening, and, when its stdin says `stop` (or closes),
 * one line with its stats before it exits.
 */
import { createInterface } from "node:readline";
import { LossyRelay } from "./lossy-relay.js";
import { SerialRelay } from "./serial-relay.js";

const args = JSON.parse(process.argv[2] ?? "{}") as { kind: string; qemuLocalPort?: number; options?: never };
let stop: () => Promise<Record<string, unknown>>;
if (args.kind === "serial") {
  const relay = new SerialRelay();
  await relay.start(args.qemuLocalPort ?? 0);
  process.stdout.write(`${JSON.stringify({ port: relay.port, peerPort: relay.peerPort })}\n`);
  stop = async () => {
    await relay.stop();
    return {};
  };
} else if (args.kind === "lossy" && args.options) {
  const relay = new LossyRelay(args.options);
  const port = await relay.start();
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  stop = async () => {
    await relay.stop();
    return { stats: relay.stats };
  };
} else {
  throw new Error(`relay-main: unknown relay ${process.argv[2]}`);
}
let stopping = false;
const finish = async () => {
  if (stopping) return;
  stopping = true;
  const last = await stop();
  process.stdout.write(`${JSON.stringify(last)}\n`, () => process.exit(0));
};
const input = createInterface({ input: process.stdin });
input.on("line", (l) => {
  if (l.trim() === "stop") void finish();
});
input.on("close", () => void finish());
