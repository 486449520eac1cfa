import type { CommandResult, RemoteSession, RunOptions } from "../../core/interfaces.js";
import type { PwshEngine } from "./engine.js";
import type { WindowsTargetModel } from "./model.js";
import { execWith } from "./stubs.js";

/**
 * The model as an in-memory RemoteSession (no SSH): exec hands the exact command line to the model, which runs
 * the script in the real PowerShell engine when one is given (stubs.ts), else answers from its table.
 */
export class ModelSession implements RemoteSession {
  readonly description: string;
  readonly commands: string[] = [];
  constructor(
    readonly model: WindowsTargetModel,
    readonly engine?: PwshEngine,
  ) {
    this.description = `model of ${model.state.user}`;
  }
  async exec(command: string, options?: RunOptions): Promise<CommandResult> {
    this.commands.push(command);
    if (this.model.state.recovery) throw new Error("connect ETIMEDOUT: the machine waits at the BitLocker recovery screen");
    const r = await execWith(this.model, this.engine, command, options?.input);
    if (r.dropped) throw new Error("the SSH connection was lost (injected after the command ran)");
    // the bytes as netdbg's SSH client turns them into text (UTF-8), whatever code page the target wrote
    if (r.raw)
      return {
        stdout: Buffer.from(r.raw.stdout).toString("utf8"),
        stderr: Buffer.from(r.raw.stderr).toString("utf8"),
        exitCode: r.exitCode,
      };
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
