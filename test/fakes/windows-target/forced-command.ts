/**
 * The Windows target model behind a REAL OpenSSH sshd: sshd's `ForceCommand` runs this script (under tsx) for
 * every exec request, with the client's command line in SSH_ORIGINAL_COMMAND and its stdin on ours. The model
 * state lives in a JSON file (argv[2]) shared with the test: load, handle one command, save, answer.
 *   ForceCommand <node> --import <tsx loader> forced-command.ts <state.json>
 * An injected "after" failure (the change is made, then the connection drops) ends with exit 255 and no
 * answer, which is what the client sees when the SSH connection dies mid-command.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { type Injection, type Received, WindowsTargetModel, type WindowsTargetState } from "./model.js";

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
