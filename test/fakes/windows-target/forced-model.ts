/**
 * The Windows target model behind a REAL OpenSSH sshd. sshd's ForceCommand runs forced-relay.mjs as the throwaway
 * test user for every exec request; the relay hands the command line and stdin to this server in the test process
 * over a Unix socket (one JSON line each way), which runs it against the model and answers with the exact stdout /
 * stderr bytes, the exit code, and whether the injected failure dropped the connection.
 * The model's state lives in a JSON file (ForcedState) the test reads and edits between commands: each call loads
 * it, runs, and saves it. With an engine, the Windows scripts run in the test's real PowerShell engine and the
 * exact bytes they wrote (OEM code page) go out on the channel.
 * The relay is copied beside the state, so sshd's user never needs to reach this clone.
 */
import { chmodSync, copyFileSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PwshEngine } from "../../../src/peers/windows-target/engine.js";
import {
  channelBytes,
  type Injection,
  type Received,
  WindowsTargetModel,
  type WindowsTargetState,
} from "../../../src/peers/windows-target/model.js";
import { execWith } from "../../../src/peers/windows-target/stubs.js";
import { serveJsonLines } from "./json-line-server.js";

export interface ForcedState {
  state: WindowsTargetState;
  injections: Injection[];
  received: Received[];
}

interface Call {
  commandLine: string;
  input?: string;
}

interface Reply {
  stdout: string; // base64
  stderr: string; // base64
  exitCode: number;
  dropped: boolean;
}

export interface ForcedModel {
  /** The ForceCommand: node and the relay, both outside this clone. */
  command: string;
  close(): Promise<void>;
}

/**
 * Serve the model whose state is in `stateFile` to the relay, which is copied into `dir` (a directory other users
 * can enter); without an engine the model answers on its own.
 */
export async function serveForcedModel(dir: string, stateFile: string, engine?: PwshEngine): Promise<ForcedModel> {
  const relay = join(dir, "forced-relay.mjs");
  copyFileSync(fileURLToPath(new URL("./forced-relay.mjs", import.meta.url)), relay);
  chmodSync(relay, 0o644);
  requireReachable(process.execPath);
  requireReachable(relay);
  const sock = join(dir, "model.sock");
  let turn: Promise<unknown> = Promise.resolve(); // one command at a time: each loads and saves the whole state
  const run = async (call: Call): Promise<Reply> => {
    const saved = JSON.parse(readFileSync(stateFile, "utf8")) as ForcedState;
    const model = new WindowsTargetModel(saved.state);
    model.injections = saved.injections;
    try {
      const r = await execWith(model, engine, call.commandLine, call.input);
      const { stdout, stderr } = channelBytes(r);
      return {
        stdout: Buffer.from(stdout).toString("base64"),
        stderr: Buffer.from(stderr).toString("base64"),
        exitCode: r.exitCode,
        dropped: Boolean(r.dropped),
      };
    } catch (e) {
      return { stdout: "", stderr: Buffer.from(`forced-model: ${String(e)}\n`).toString("base64"), exitCode: 70, dropped: false };
    } finally {
      const next: ForcedState = {
        state: model.state,
        injections: model.injections,
        received: [...saved.received, ...model.received],
      };
      writeFileSync(stateFile, JSON.stringify(next));
    }
  };
  const srv = await serveJsonLines(sock, (call: Call) => {
    const reply = turn.then(() => run(call));
    turn = reply.catch(() => undefined);
    return reply;
  });
  return {
    command: `${process.execPath} ${relay} ${sock}`,
    close: () => new Promise<void>((r) => srv.close(() => r())),
  };
}

/**
 * The relay runs as the throwaway test user: every directory above `path` must let other users through (o+x).
 * Say so up front rather than as a missing module deep inside an SSH session.
 */
function requireReachable(path: string): void {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) {
      throw new Error(
        `the SSH tests run ${path} as a throwaway user, but ${dir} (mode ${(mode & 0o777).toString(8)}) does not let other users through (chmod o+x ${dir})`,
      );
    }
    if (dirname(dir) === dir) return;
  }
}
