/**
 * A Windows target for the process-level journey test, run INSIDE the test's target network namespace: the
 * Windows target model behind the in-process ssh2 server (on this namespace's loopback), reachable from the
 * host namespace through a TCP relay on <listen-address>:2222. Prints one line `{"ready": …}` with the client
 * key file and the host key line; answers "store" on stdin with the model's BCD store bytes (JSON line).
 *
 *   node --import tsx test/cli/journey-peer.ts <dir> <listen-address>
 */
import { createServer, connect } from "node:net";
import { createInterface } from "node:readline";
import { startSshPeer } from "../../src/peers/ssh-server.js";
import { defaultState, WindowsTargetModel } from "../../src/peers/windows-target/model.js";

const [dir, listen] = process.argv.slice(2) as [string, string];
const model = new WindowsTargetModel(defaultState());
const srv = await startSshPeer({
  users: ["admin"],
  noSftp: true,
  exec: ({ command, stdin }) => {
    const r = model.exec(command, stdin === "" ? undefined : stdin);
    return { stdout: r.stdout, stderr: r.stderr, code: r.dropped ? 255 : r.exitCode };
  },
});
const relay = createServer((c) => {
  const up = connect(srv.port, "127.0.0.1");
  c.pipe(up).pipe(c);
  const end = () => {
    c.destroy();
    up.destroy();
  };
  c.on("error", end);
  up.on("error", end);
});
await new Promise<void>((resolve) => relay.listen(2222, listen, resolve));
const opts = srv.connectOptions(dir, "admin");
process.stdout.write(
  `${JSON.stringify({ ready: { identityFile: opts.target.ssh?.identityFile, hostKey: srv.hostKey.public, store: model.storeBytes() } })}\n`,
);
createInterface({ input: process.stdin }).on("line", (line) => {
  if (line === "store") process.stdout.write(`${JSON.stringify({ store: model.storeBytes() })}\n`);
  if (line === "quit") {
    relay.close();
    void srv.stop().then(() => process.exit(0));
  }
});
