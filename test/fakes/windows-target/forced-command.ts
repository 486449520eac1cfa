/**
 * The Windows target model behind a REAL OpenSSH sshd: sshd's `ForceCommand` runs this script (under tsx) for
 * every exec request, with the client's command line in SSH_ORIGINAL_COMMAND and its stdin on ours. The model
 * state lives in a JSON file (argv[2]) shared with the test: load, handle one command, save, answer.
 *   ForceCommand <node> --import <tsx loader> forced-command.ts <state.json>
 * An injected "after" failure (the change is made, then the connection drops) ends with exit 255 and no
 * answer, which is what the client sees when the SSH connection dies mid-command.
 *   ForceCommand … forced-command.ts <state.json> <engine.sock>
 * With a second argument the script runs in the test's real PowerShell engine (engine-server.ts) and the exact
 * bytes it wrote (OEM code page) go out on the channel.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import type { EngineCall, EngineReply } from "./engine-server.js";
import {
  type Injection,
  type Received,
  WindowsTargetModel,
  type WindowsTargetState,
} from "../../../src/peers/windows-target/model.js";

export interface ForcedState {
  state: WindowsTargetState;
  injections: Injection[];
  received: Received[];
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error("usage: forced-command.ts <state.json>");
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const input = Buffer.concat(chunks).toString("utf8");
  const saved = JSON.parse(readFileSync(file, "utf8")) as ForcedState;
  const sock = process.argv[3];
  if (sock) {
    const call: EngineCall = {
      state: saved.state,
      injections: saved.injections,
      commandLine: process.env.SSH_ORIGINAL_COMMAND ?? "",
      ...(input === "" ? {} : { input }),
    };
    const reply = await new Promise<EngineReply>((resolve, reject) => {
      const s = connect(sock);
      let buf = "";
      s.setEncoding("utf8");
      s.on("data", (d: string) => {
        buf += d;
      });
      s.on("end", () => resolve(JSON.parse(buf) as EngineReply));
      s.on("error", reject);
      s.write(`${JSON.stringify(call)}\n`);
    });
    writeFileSync(
      file,
      JSON.stringify({ state: reply.state, injections: reply.injections, received: [...saved.received, ...reply.received] }),
    );
    if (reply.dropped) {
      process.exitCode = 255;
      return;
    }
    process.stdout.write(Buffer.from(reply.stdout, "base64"));
    process.stderr.write(Buffer.from(reply.stderr, "base64"));
    process.exitCode = reply.exitCode;
    return;
  }
  const model = new WindowsTargetModel(saved.state);
  model.injections = saved.injections;
  const r = model.exec(process.env.SSH_ORIGINAL_COMMAND ?? "", input === "" ? undefined : input);
  const next: ForcedState = {
    state: model.state,
    injections: model.injections,
    received: [...saved.received, ...model.received],
  };
  writeFileSync(file, JSON.stringify(next));
  if (r.dropped) {
    process.exitCode = 255;
    return;
  }
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exitCode = r.exitCode;
}

main().catch((e: unknown) => {
  process.stderr.write(`forced-command: ${String(e)}\n`);
  process.exitCode = 70;
});
