/**
 * The real PowerShell engine for the model behind a REAL OpenSSH sshd: the forced command (forced-command.ts) is
 * a new process per SSH command, too short-lived to start pwsh, so it hands the command to this server in the
 * test process, which runs it in the test's engine against a model built from the forced command's state and
 * sends back the exact stdout / stderr bytes, the exit code and the new state.
 * One JSON line each way over a Unix socket.
 */
import { chmodSync } from "node:fs";
import { createServer, type Server } from "node:net";
import type { PwshEngine } from "../../../src/peers/windows-target/engine.js";
import {
  type Injection,
  type Received,
  WindowsTargetModel,
  type WindowsTargetState,
} from "../../../src/peers/windows-target/model.js";
import { execWith } from "../../../src/peers/windows-target/stubs.js";

export interface EngineCall {
  state: WindowsTargetState;
  injections: Injection[];
  commandLine: string;
  input?: string;
}

export interface EngineReply {
  stdout: string; // base64
  stderr: string; // base64
  exitCode: number;
  dropped: boolean;
  state: WindowsTargetState;
  injections: Injection[];
  received: Received[];
}

export async function serveEngine(engine: PwshEngine, socketPath: string): Promise<Server> {
  const srv = createServer((s) => {
    let buf = "";
    s.setEncoding("utf8");
    s.on("error", () => undefined);
    s.on("data", (d: string) => {
      buf += d;
      const nl = buf.indexOf("\n");
      if (nl < 0) return;
      const call = JSON.parse(buf.slice(0, nl)) as EngineCall;
      buf = "";
      void (async () => {
        const model = new WindowsTargetModel(call.state);
        model.injections = call.injections;
        const r = await execWith(model, engine, call.commandLine, call.input);
        const reply: EngineReply = {
          stdout: Buffer.from(r.raw?.stdout ?? Buffer.from(r.stdout)).toString("base64"),
          stderr: Buffer.from(r.raw?.stderr ?? Buffer.from(r.stderr)).toString("base64"),
          exitCode: r.exitCode,
          dropped: Boolean(r.dropped),
          state: model.state,
          injections: model.injections,
          received: model.received,
        };
        s.end(`${JSON.stringify(reply)}\n`);
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    srv.once("error", reject);
    srv.listen(socketPath, () => resolve());
  });
  chmodSync(socketPath, 0o777); // sshd runs the forced command as the test user
  return srv;
}
