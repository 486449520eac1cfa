/**
 * The Unix-socket server behind the rigs' stand-in programs (sshd's forced command, the target's powershell.exe):
 * one JSON line in, one JSON line back, then the connection ends. Other users may connect (sshd runs the forced
 * command as the test user).
 */
import { chmodSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { answerLine } from "../../../src/peers/windows-target/engine.js";

export async function serveJsonLines<C, R>(socketPath: string, answer: (call: C) => Promise<R>): Promise<Server> {
  const srv = createServer((s) => answerLine(s, async (line) => answer(JSON.parse(line) as C)));
  await new Promise<void>((resolve, reject) => {
    srv.once("error", reject);
    srv.listen(socketPath, () => resolve());
  });
  chmodSync(socketPath, 0o777);
  return srv;
}
