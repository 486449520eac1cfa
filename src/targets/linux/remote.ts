/**
 * Remote commands on a Linux target, through the RemoteSession port: root via sudo when needed, a timeout on
 * every step, coded errors naming the step, the command and its stderr tail, and a transcript of what ran.
 * In check mode any command not marked read-only is refused (a bug guard: --check must change nothing).
 */
import { netdbgError } from "../../core/error.js";
import type { CommandResult, RemoteSession } from "../../core/ports.js";
import { shQuote } from "../../core/quote.js";

export type Privilege = { kind: "root" } | { kind: "sudo-nopasswd" } | { kind: "sudo-password"; password: string };

export interface RemoteCommandOptions {
  /** Read-only commands may run in check mode. */
  readOnly: boolean;
  /** Run as root (through sudo unless the session already is root). Default true. */
  root?: boolean;
  timeoutMs?: number;
  /** Return non-zero exits instead of throwing. */
  allowFail?: boolean;
  /** The fix to show when it fails. */
  fix?: string;
}

export interface TranscriptEntry {
  step: string;
  command: string;
  readOnly: boolean;
  exitCode?: number;
}

export const DEFAULT_STEP_TIMEOUT_MS = 60_000;

export function tail(text: string, lines = 6, chars = 600): string {
  const t = text.trimEnd().split(/\r?\n/).slice(-lines).join("\n");
  return t.length > chars ? `…${t.slice(-chars)}` : t;
}

export class LinuxRemote {
  readonly transcript: TranscriptEntry[] = [];
  privilege: Privilege = { kind: "root" };

  constructor(
    readonly session: RemoteSession,
    readonly check: boolean,
    private readonly onCommand?: (e: TranscriptEntry) => void,
  ) {}

  /** The command line as sent: root sessions run it as is, others through `sudo … sh -c`. */
  wrap(command: string, root: boolean): { line: string; input?: string } {
    if (!root || this.privilege.kind === "root") return { line: command };
    if (this.privilege.kind === "sudo-nopasswd") return { line: `sudo -n -- sh -c ${shQuote(command)}` };
    return { line: `sudo -S -p '' -- sh -c ${shQuote(command)}`, input: `${this.privilege.password}\n` };
  }

  async run(step: string, command: string, o: RemoteCommandOptions): Promise<CommandResult> {
    const entry: TranscriptEntry = { step, command, readOnly: o.readOnly };
    if (this.check && !o.readOnly) throw new Error(`internal: check mode tried to run a changing command (${step})`);
    this.transcript.push(entry);
    this.onCommand?.(entry);
    const { line, input } = this.wrap(command, o.root !== false);
    const timeoutMs = o.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(netdbgError("E351", { step, command, seconds: Math.round(timeoutMs / 1000) })), timeoutMs);
      timer.unref?.();
    });
    let r: CommandResult;
    try {
      r = await Promise.race([this.session.exec(line, input === undefined ? { timeoutMs } : { timeoutMs, input }), timeout]);
    } finally {
      clearTimeout(timer);
    }
    entry.exitCode = r.exitCode;
    if (r.exitCode !== 0 && !o.allowFail) {
      throw netdbgError("E350", {
        step,
        command,
        exitCode: r.exitCode,
        stderrTail: tail(r.stderr || r.stdout),
        ...(o.fix === undefined ? {} : { fix: o.fix }),
      });
    }
    return r;
  }

  async upload(step: string, content: string | Uint8Array, remotePath: string, mode?: number): Promise<void> {
    if (this.check) throw new Error(`internal: check mode tried to upload (${step})`);
    const entry: TranscriptEntry = { step, command: `sftp put ${remotePath}`, readOnly: false };
    this.transcript.push(entry);
    this.onCommand?.(entry);
    await this.session.upload({ content }, remotePath, mode);
  }
}
