/**
 * Remote commands on a Linux target, through the RemoteSession port: root via sudo when needed, a timeout on
 * every step, coded errors naming the step, the command and its stderr tail, and a transcript of what ran.
 * In check mode any command not marked read-only is refused (a bug guard: --check must change nothing).
 */
import { netdbgError } from "../../core/error.js";
import type { CommandResult, RemoteSession } from "../../core/interfaces.js";

export interface RemoteCommandOptions {
  /** Read-only commands may run in check mode. */
  readOnly: boolean;
  /** Run on the login session instead of the root one (e.g. to read $SSH_CONNECTION, which sudo drops). */
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
  /** The session whose commands run as root (core/remote.ts `elevate`); the login session until set. */
  rootSession: RemoteSession;

  constructor(
    readonly session: RemoteSession,
    readonly check: boolean,
    private readonly onCommand?: (e: TranscriptEntry) => void,
  ) {
    this.rootSession = session;
  }

  /** Record a command some other helper ran (e.g. the sudo probe), so the transcript stays complete. */
  note(step: string, command: string, readOnly: boolean): void {
    const e = { step, command, readOnly };
    this.transcript.push(e);
    this.onCommand?.(e);
  }

  async run(step: string, command: string, o: RemoteCommandOptions): Promise<CommandResult> {
    const entry: TranscriptEntry = { step, command, readOnly: o.readOnly };
    if (this.check && !o.readOnly) throw new Error(`internal: check mode tried to run a changing command (${step})`);
    this.transcript.push(entry);
    this.onCommand?.(entry);
    const session = o.root === false ? this.session : this.rootSession;
    const timeoutMs = o.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(netdbgError("E351", { step, command, seconds: Math.round(timeoutMs / 1000) })), timeoutMs);
      timer.unref?.();
    });
    let r: CommandResult;
    try {
      r = await Promise.race([session.exec(command, { timeoutMs, step } as { timeoutMs: number }), timeout]);
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
    await this.rootSession.upload({ content }, remotePath, mode);
  }
}
