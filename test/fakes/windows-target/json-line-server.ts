/**
 * The Unix-socket server behind the rigs' stand-in programs (sshd's forced command, the target's powershell.exe):
 * one JSON line in, one JSON line back, then the connection ends. Other users may connect (sshd runs the forced
 * command as the test user).
 */
import { chmodSync } from "node:fs";
import { createServer, type Server } from "node:net";

export async function serveJsonLines<C, R>(socketPath: string, answer: (call: C) => Promise<R>): Promise<Server> {
  const srv = createServer((s) => {
    let buf = "";
    s.setEncoding("utf8");
    s.on("error", () => undefined);
    s.on("data", (d: string) => {
      buf += d;
      const nl = buf.indexOf("\n");
      if (nl < 0) return;
      const call = JSON.parse(buf.slice(0, nl)) as C;
      buf = "";
      void answer(call).then((r) => s.end(`${JSON.stringify(r)}\n`));
    });
  });
  await new Promise<void>((resolve, reject) => {
    srv.once("error", reject);
    srv.listen(socketPath, () => resolve());
  });
  chmodSync(socketPath, 0o777);
  return srv;
}
