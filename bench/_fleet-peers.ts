/**
 * The fleet benchmark's targets, in a worker thread of the benchmark's process: N Windows target models, each
 * behind its own in-process ssh2 server on loopback. In real life each target does its own work on its own
 * machine; a worker keeps the models' and the SSH servers' CPU off the thread that runs netdbg, so the figure
 * is netdbg's scaling, not the fake targets'.
 *
 * Messages: {op: "start", n, dir} → {op: "started", options: SshConnectOptions[]};
 *           {op: "dbgsettings"} → {op: "dbgsettings", texts: string[]}; {op: "stop"} → {op: "stopped"}.
 */
import { parentPort } from "node:worker_threads";
import { type SshPeer, startSshPeer } from "../src/peers/ssh-server.js";
import { defaultState, WindowsTargetModel } from "../src/peers/windows-target/model.js";

const servers: SshPeer[] = [];
const models: WindowsTargetModel[] = [];

parentPort!.on("message", async (m: { op: string; n?: number; dir?: string }) => {
  if (m.op === "start") {
    for (let i = 0; i < m.n!; i++) {
      const model = new WindowsTargetModel(defaultState());
      const srv = await startSshPeer({
        users: ["admin"],
        noSftp: true,
        exec: ({ command, stdin }) => {
          const r = model.exec(command, stdin === "" ? undefined : stdin);
          return { stdout: r.stdout, stderr: r.stderr, code: r.dropped ? 255 : r.exitCode };
        },
      });
      servers.push(srv);
      models.push(model);
    }
    parentPort!.postMessage({ op: "started", options: servers.map((s) => s.connectOptions(m.dir!, "admin")) });
  } else if (m.op === "dbgsettings") {
    parentPort!.postMessage({ op: "dbgsettings", texts: models.map((x) => x.bcd(["/dbgsettings"]).output) });
  } else if (m.op === "stop") {
    for (const s of servers) await s.stop();
    parentPort!.postMessage({ op: "stopped" });
  }
});
