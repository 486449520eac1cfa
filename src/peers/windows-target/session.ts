import type { CommandResult, RemoteSession, RunOptions } from "../../core/ports.js";
import type { WindowsTargetModel } from "./model.js";

/** The model as an in-memory RemoteSession (no SSH): exec hands the exact command line to the model. */
export class ModelSession implements RemoteSession {
  readonly description: string;
  readonly commands: string[] = [];
  constructor(readonly model: WindowsTargetModel) {
    this.description = `model of ${model.state.user}`;
  }
  async exec(command: string, options?: RunOptions): Promise<CommandResult> {
    this.commands.push(command);
    const r = this.model.exec(command, options?.input);
    if (r.dropped) throw new Error("the SSH connection was lost (injected after the command ran)");
    return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
  }
  async upload(): Promise<void> {
    throw new Error("the Windows model has no SFTP");
  }
  async download(): Promise<Uint8Array> {
    throw new Error("the Windows model has no SFTP");
  }
  async close(): Promise<void> {}
}
