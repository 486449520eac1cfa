/**
 * The entry of relay-process.ts's child: a SerialRelay for QEMU's local port argv[2]. It prints its ports as one
 * JSON line once listening, and stops and exits when its stdin closes.
 */
import { SerialRelay } from "./serial-relay.js";

const relay = new SerialRelay();
await relay.start(Number(process.argv[2]));
process.stdout.write(`${JSON.stringify({ port: relay.port, peerPort: relay.peerPort })}\n`);
process.stdin.resume();
process.stdin.on("end", () => {
  void relay.stop().then(() => process.exit(0));
});
