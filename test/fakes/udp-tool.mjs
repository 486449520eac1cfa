// Tiny UDP tool for namespace tests: `listen <port> <windowMs>` prints "ready", then "got <msg>" (exit 0) or
// nothing (exit 3) when no datagram arrives within the window; `send <host> <port> <srcPort> <msg> [srcAddr]`.
import { createSocket } from "node:dgram";

const [cmd, ...a] = process.argv.slice(2);
if (cmd === "listen") {
  const s = createSocket("udp4");
  s.on("message", (m) => {
    process.stdout.write(`got ${m}\n`, () => process.exit(0));
  });
  s.bind(Number(a[0]), "0.0.0.0", () => {
    process.stdout.write("ready\n");
    setTimeout(() => process.exit(3), Number(a[1]));
  });
} else if (cmd === "send") {
  const s = createSocket("udp4");
  s.bind({ port: Number(a[2]), ...(a[4] ? { address: a[4] } : {}) }, () => {
    s.send(a[3] ?? "probe", Number(a[1]), a[0], (err) => {
      if (err) {
        console.error(err.message);
        process.exit(1);
      }
      s.close();
    });
  });
} else {
  console.error("usage: udp-tool listen <port> <windowMs> | send <host> <port> <srcPort> <msg>");
  process.exit(2);
}
