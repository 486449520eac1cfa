/**
 * The RemoteSession port over SSH (ssh2): exec with stdin, timeout and exit code; SFTP upload (with mode)
 * and download; ProxyJump chains through `forwardOut`; host keys checked against ~/.ssh/known_hosts.
 *
 * Failure shapes mapped here were observed against OpenSSH 9.2 (ssh2 1.17.0's error events):
 * err.level 'client-authentication' | 'client-socket' | 'handshake' | 'client-timeout'.
 * ssh2 is CommonJS: import the default export and destructure (named imports of Server/utils fail in ESM).
 */
import { readFile } from "node:fs/promises";
import { homedir, constants as osConstants } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import ssh2 from "ssh2";
import type { AnyAuthMethod, AuthenticationType, Client as SshClient, ClientChannel, ConnectConfig, SFTPWrapper } from "ssh2";
import { isNetdbgError, type NetdbgError, netdbgError } from "../core/error.js";
import type { Target } from "../core/inventory.js";
import { type CommandResult, type Logger, nullLogger, type RemoteSession, type RunOptions } from "../core/interfaces.js";
import { posixCommandLine, stderrTail as tail } from "../core/remote.js";
import { displayCommand } from "../core/redact.js";
import {
  appendKnownHost,
  checkHostKey,
  type KnownHostEntry,
  keyTypeOfBlob,
  knownHostsName,
  knownKeyTypes,
  readKnownHosts,
  sha256Fingerprint,
} from "./known-hosts.js";
import { type ResolvedSsh, type ResolveOptions, resolveSshTarget, type SshHop } from "./ssh-config.js";
import { type PassphrasePrompt, registeredPassphrasePrompt } from "./ssh-prompts.js";

const { Client, utils } = ssh2;

/** What the confirmation callback is shown for a host key seen for the first time. */
export interface HostKeyPrompt {
  /** The known_hosts name: `host` or `[host]:port`. */
  name: string;
  host: string;
  port: number;
  keyType: string;
  /** `SHA256:…`, identical to `ssh-keygen -lf`. */
  fingerprint: string;
  knownHostsFile: string;
  /** Key types already recorded for this host (the server offered another one). */
  otherKnownTypes: string[];
  /** OpenSSH's warning when other key types are known for the host, for the question's text. */
  warning?: string;
}

export interface SshConnectOptions extends ResolveOptions {
  target: Pick<Target, "name" | "address" | "ssh"> & { os?: Target["os"] };
  /** known_hosts to check and append to; default the target's ssh.knownHostsFile, else ~/.ssh/known_hosts. */
  knownHostsPath?: string;
  /** Record an unknown host key without asking (`--accept-new-host-key`). */
  acceptNewHostKey?: boolean;
  /** Asked when a host key is unknown and acceptNewHostKey is off; resolve true to trust and record it. */
  confirmHostKey?: (prompt: HostKeyPrompt) => Promise<boolean>;
  /**
   * Append a newly trusted host key to known_hosts (default true). False in check mode (`--check` changes
   * nothing, known_hosts included): the key is trusted for this connection only.
   */
  recordHostKey?: boolean;
  /**
   * Asked for the passphrase of an encrypted identity file that ssh-agent does not hold (as ssh asks on a
   * terminal); resolve undefined to skip the key. Default: the prompt registered with setPassphrasePrompt (ssh-prompts.ts)
   * (the CLI registers one when it runs on a terminal), else the key is skipped with a hint to use ssh-add.
   */
  askPassphrase?: PassphrasePrompt;
  /** ssh-agent socket; default $SSH_AUTH_SOCK; null disables the agent. */
  agentSocket?: string | null;
  /** Handshake + authentication deadline per hop (default 20 s); paused while confirmHostKey is waiting. */
  readyTimeoutMs?: number;
  /** Deadline of a command run without its own timeoutMs (default 10 min). */
  defaultTimeoutMs?: number;
  /**
   * The remote shell is POSIX sh, so a timed-out command's process group can be killed (see PID_MARKER_COMMAND).
   * Default: true when target.os is "linux", false otherwise (Windows: cmd.exe or PowerShell).
   */
  posixShell?: boolean;
  logger?: Logger;
}

/** RunOptions plus the step name used in errors (runStep in core/remote.ts passes it). */
export interface SshExecOptions extends RunOptions {
  step?: string;
}

const DEFAULT_HOST_KEY_ALGOS = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-512",
  "rsa-sha2-256",
  "ssh-rsa",
] as const;
type HostKeyAlgo = (typeof DEFAULT_HOST_KEY_ALGOS)[number];

/** Ask first for the key types known_hosts already has for this host, as OpenSSH does (no false "unknown"). */
export function hostKeyAlgorithmOrder(knownTypes: readonly string[]): HostKeyAlgo[] {
  const preferred: HostKeyAlgo[] = [];
  for (const t of knownTypes) {
    const algos = (t === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [t]) as HostKeyAlgo[];
    for (const a of algos) if (DEFAULT_HOST_KEY_ALGOS.includes(a) && !preferred.includes(a)) preferred.push(a);
  }
  return [...preferred, ...DEFAULT_HOST_KEY_ALGOS.filter((a) => !preferred.includes(a))];
}

function describeHop(h: SshHop): string {
  return `${h.user}@${h.hostName} port ${h.port}`;
}

interface HopContext {
  opts: SshConnectOptions;
  knownHostsFile: string;
  knownHosts: KnownHostEntry[];
  agent: string | undefined;
  logger: Logger;
}

/** Attempts at a passphrase before the key is skipped (ssh asks three times too). */
const PASSPHRASE_TRIES = 3;

/** Build the credentials to offer, in order: agent, then identity files (unreadable defaults are skipped). */
async function credentialsFor(hop: SshHop, ctx: HopContext): Promise<{ methods: AnyAuthMethod[]; tried: string[] }> {
  const methods: AnyAuthMethod[] = [];
  const tried: string[] = [];
  if (ctx.agent && !hop.identitiesOnly) {
    methods.push({ type: "agent", username: hop.user, agent: ctx.agent });
    tried.push("ssh-agent");
  }
  for (const file of hop.identityFiles) {
    const explicit = hop.explicitIdentityFiles.includes(file);
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (explicit) {
        throw netdbgError("E816", { file, reason: code === "ENOENT" ? "it does not exist" : (e as Error).message });
      }
      continue;
    }
    const parsed = utils.parseKey(data);
    if (parsed instanceof Error) {
      const encrypted = /encrypt|passphrase/i.test(parsed.message);
      if (explicit && !encrypted && !ctx.agent) throw netdbgError("E816", { file, reason: parsed.message });
      const ask = ctx.opts.askPassphrase ?? registeredPassphrasePrompt();
      if (encrypted && ask && !(await agentHolds(ctx.agent, file))) {
        const passphrase = await askUntilParsed(file, data, ask);
        if (passphrase !== undefined) {
          methods.push({ type: "publickey", username: hop.user, key: data, passphrase });
          tried.push(`${file} (passphrase given)`);
          continue;
        }
        tried.push(`${file} (has a passphrase, none given: load it with ssh-add)`);
        continue;
      }
      tried.push(`${file} (${encrypted ? "has a passphrase: load it with ssh-add" : "not a private key"})`);
      continue;
    }
    methods.push({ type: "publickey", username: hop.user, key: data });
    tried.push(file);
  }
  return { methods, tried };
}

/**
 * Does ssh-agent hold the key of this (encrypted) identity file? Compared by its `.pub` next to it; without
 * one the answer is no and the passphrase is asked (as ssh does when it cannot tell).
 */
async function agentHolds(agent: string | undefined, file: string): Promise<boolean> {
  if (!agent) return false;
  let pub: Buffer;
  try {
    const parsed = utils.parseKey(await readFile(`${file}.pub`));
    if (parsed instanceof Error) return false;
    pub = (Array.isArray(parsed) ? parsed[0]! : parsed).getPublicSSH();
  } catch {
    return false;
  }
  const client = new ssh2.OpenSSHAgent(agent);
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 2000);
    client.getIdentities((err, keys) => {
      clearTimeout(timer);
      resolve(!err && (keys ?? []).some((k) => "getPublicSSH" in k && k.getPublicSSH().equals(pub)));
    });
  });
}

/** Ask until the passphrase opens the key (at most PASSPHRASE_TRIES times); undefined when not given. */
async function askUntilParsed(
  file: string,
  data: Buffer,
  ask: NonNullable<SshConnectOptions["askPassphrase"]>,
): Promise<string | undefined> {
  for (let attempt = 1; attempt <= PASSPHRASE_TRIES; attempt++) {
    const passphrase = await ask(file, attempt);
    if (passphrase === undefined || passphrase === "") return undefined;
    if (!(utils.parseKey(data, passphrase) instanceof Error)) return passphrase;
  }
  return undefined;
}

function mapConnectError(
  err: Error & { level?: string; code?: string | number },
  hop: SshHop,
  via: string | undefined,
  ctx: {
    hostKeyError: NetdbgError | undefined;
    tried: string[];
    readyTimeoutMs: number;
  },
): NetdbgError {
  if (ctx.hostKeyError) return ctx.hostKeyError;
  const ep = { host: hop.hostName, user: hop.user, port: hop.port, ...(via ? { via } : {}) };
  switch (err.level) {
    case "client-authentication":
      return netdbgError("E800", { ...ep, tried: ctx.tried }, { cause: err });
    case "client-socket": {
      const errno = typeof err.code === "string" ? err.code : undefined;
      return netdbgError("E801", { ...ep, reason: err.message, ...(errno ? { errno } : {}) }, { cause: err });
    }
    case "client-timeout":
      return netdbgError("E803", { ...ep, seconds: Math.round(ctx.readyTimeoutMs / 100) / 10 }, { cause: err });
    default:
      return netdbgError("E802", { ...ep, reason: err.message }, { cause: err });
  }
}

async function connectHop(hop: SshHop, ctx: HopContext, sock: Duplex | undefined, via: string | undefined): Promise<SshClient> {
  const readyTimeoutMs = ctx.opts.readyTimeoutMs ?? 20_000;
  const { methods, tried } = await credentialsFor(hop, ctx);
  const keyName = knownHostsName(hop.hostKeyName, hop.port);
  // Our own handshake deadline (ssh2's readyTimeout is off): it pauses while a person reads the host-key
  // question, so a slow answer is not a "timeout"; it restarts in full after the answer.
  const deadline = { timer: undefined as NodeJS.Timeout | undefined, onExpire: () => {} };
  const startDeadline = () => {
    clearTimeout(deadline.timer);
    deadline.timer = setTimeout(() => deadline.onExpire(), readyTimeoutMs);
  };
  const pauseDeadline = () => clearTimeout(deadline.timer);
  const state: { hostKeyError: NetdbgError | undefined; tried: string[]; readyTimeoutMs: number } = {
    hostKeyError: undefined,
    tried,
    readyTimeoutMs,
  };

  const hostVerifier = (key: Buffer, verify: (ok: boolean) => void): void => {
    const keyType = keyTypeOfBlob(key);
    const fingerprint = sha256Fingerprint(key);
    const verdict = checkHostKey(ctx.knownHosts, keyName, key);
    const refuse = (e: NetdbgError) => {
      state.hostKeyError = e;
      verify(false);
    };
    if (verdict.status === "known") {
      verify(true);
      return;
    }
    if (verdict.status === "revoked") {
      refuse(
        netdbgError("E818", {
          host: hop.hostKeyName,
          port: hop.port,
          fingerprint,
          file: ctx.knownHostsFile,
          line: verdict.entry.line,
        }),
      );
      return;
    }
    if (verdict.status === "changed") {
      refuse(
        netdbgError("E805", {
          host: hop.hostKeyName,
          port: hop.port,
          keyType,
          fingerprint,
          file: ctx.knownHostsFile,
          line: verdict.entry.line,
        }),
      );
      return;
    }
    const prompt: HostKeyPrompt = {
      name: keyName,
      host: hop.hostKeyName,
      port: hop.port,
      keyType,
      fingerprint,
      knownHostsFile: ctx.knownHostsFile,
      otherKnownTypes: verdict.otherTypes,
    };
    if (verdict.otherTypes.length) {
      // OpenSSH (ssh(1) with StrictHostKeyChecking ask) says the same before its question
      prompt.warning = `The authenticity of host '${keyName}' can't be established, but keys of different type are already known for this host (${verdict.otherTypes.join(", ")} in ${ctx.knownHostsFile}); it now offers ${keyType} ${fingerprint}. Unless the host was given a new key type on purpose, someone may be in the middle.`;
      ctx.logger.warn(prompt.warning);
    }
    const decide = async (): Promise<boolean> => {
      if (ctx.opts.acceptNewHostKey) return true;
      if (!ctx.opts.confirmHostKey) return false;
      pauseDeadline();
      try {
        return await ctx.opts.confirmHostKey(prompt);
      } finally {
        startDeadline();
      }
    };
    const record = async (): Promise<void> => {
      let ok: boolean;
      try {
        ok = await decide();
      } catch (e) {
        refuse(isNetdbgError(e) ? e : netdbgError("E804", { host: hop.hostKeyName, port: hop.port, keyType, fingerprint }));
        return;
      }
      if (!ok) {
        refuse(netdbgError("E804", { host: hop.hostKeyName, port: hop.port, keyType, fingerprint }));
        return;
      }
      if (ctx.opts.recordHostKey === false) {
        ctx.knownHosts.push({ line: 0, hosts: keyName, keyType, key: Buffer.from(key) });
        ctx.logger.info(
          `Trusted the SSH host key of ${keyName} (${keyType} ${fingerprint}) for this run only: check mode does not write ${ctx.knownHostsFile}.`,
        );
        verify(true);
        return;
      }
      try {
        await appendKnownHost(ctx.knownHostsFile, keyName, key);
      } catch (e) {
        refuse(netdbgError("E820", { name: keyName, file: ctx.knownHostsFile, reason: (e as Error).message }, { cause: e }));
        return;
      }
      ctx.knownHosts.push({ line: 0, hosts: keyName, keyType, key: Buffer.from(key) });
      ctx.logger.info(`Recorded the SSH host key of ${keyName} (${keyType} ${fingerprint}) in ${ctx.knownHostsFile}.`);
      verify(true);
    };
    void record();
  };

  let next = 0;
  const authHandler = (_left: AuthenticationType[], _partial: boolean, cb: (m: AnyAuthMethod | false) => void): void => {
    const m = methods[next++];
    cb(m ?? false);
  };

  const config: ConnectConfig = {
    host: hop.hostName,
    port: hop.port,
    username: hop.user,
    readyTimeout: 0,
    keepaliveInterval: 15_000,
    keepaliveCountMax: 4,
    hostVerifier: hostVerifier as NonNullable<ConnectConfig["hostVerifier"]>,
    authHandler: authHandler as NonNullable<ConnectConfig["authHandler"]>,
    algorithms: { serverHostKey: hostKeyAlgorithmOrder(knownKeyTypes(ctx.knownHosts, keyName)) },
  };
  if (sock) config.sock = sock as NonNullable<ConnectConfig["sock"]>;

  const client = new Client();
  return new Promise<SshClient>((resolve, reject) => {
    let settled = false;
    deadline.onExpire = () => {
      if (settled) return;
      settled = true;
      client.destroy();
      reject(
        netdbgError("E803", {
          host: hop.hostName,
          user: hop.user,
          port: hop.port,
          seconds: Math.round(readyTimeoutMs / 100) / 10,
          ...(via ? { via } : {}),
        }),
      );
    };
    client.once("ready", () => {
      settled = true;
      client.setNoDelay(true);
      pauseDeadline();
      resolve(client);
    });
    client.on("error", (err: Error & { level?: string }) => {
      if (settled) return; // later errors surface through exec/close handling
      settled = true;
      pauseDeadline();
      client.end();
      reject(mapConnectError(err, hop, via, state));
    });
    client.once("close", () => {
      if (settled) return;
      settled = true;
      pauseDeadline();
      reject(
        state.hostKeyError ??
          netdbgError("E802", {
            host: hop.hostName,
            user: hop.user,
            port: hop.port,
            reason: "the server closed the connection",
            ...(via ? { via } : {}),
          }),
      );
    });
    ctx.logger.debug(`ssh: connecting to ${describeHop(hop)}${via ? ` via ${via}` : ""}`);
    startDeadline();
    client.connect(config);
    // No Nagle: a command's small packets (its input, its EOF) leave at once instead of waiting for the server's
    // delayed ack of the one before. Against OpenSSH's sshd on loopback a command took a median 52 ms (88 with input)
    // instead of 7 (10). A forwarded channel under ProxyJump has no socket of its own: its hop's socket counts.
    client.setNoDelay(true);
  });
}

function forwardOut(client: SshClient, hop: SshHop, via: SshHop): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.forwardOut("127.0.0.1", 0, hop.hostName, hop.port, (err, stream) => {
      if (err) {
        reject(
          netdbgError("E801", {
            host: hop.hostName,
            user: hop.user,
            port: hop.port,
            via: describeHop(via),
            reason: `the jump host could not open a connection there (${err.message})`,
          }),
        );
      } else resolve(stream);
    });
  });
}

/**
 * POSIX targets: the first thing the remote shell does is report its pid on stderr. sshd makes that shell a
 * session and process-group leader (setsid in session.c, no-pty exec), so on a timeout netdbg can stop the whole
 * command tree with `kill -TERM/-KILL -<pid>` (sudo relays TERM to its command) instead of leaving it running
 * — an orphaned apt-get would keep the dpkg lock. The marker line is removed from the stderr callers see.
 */
export const PID_MARKER_COMMAND = "printf '\\036netdbg-pid %s\\n' \"$$\" >&2; ";
const PID_MARKER = /\x1enetdbg-pid (\d+)\n/;

function signalExitCode(signal: string | undefined): number {
  if (!signal) return 255;
  const n = (osConstants.signals as Record<string, number>)[signal.startsWith("SIG") ? signal : `SIG${signal}`];
  return n === undefined ? 255 : 128 + n;
}

/** An open SSH connection implementing the RemoteSession port. Build it with `connectSsh`. */
export class SshSession implements RemoteSession {
  readonly description: string;
  private closed = false;
  private lostReason: string | undefined;

  constructor(
    private readonly client: SshClient,
    /** Jump clients, first hop first: closed after the main client. */
    private readonly jumpClients: SshClient[],
    readonly resolved: ResolvedSsh,
    private readonly defaultTimeoutMs: number,
    private readonly logger: Logger,
    /** The remote shell is POSIX sh (Linux targets): timeouts stop the command's whole process group. */
    private readonly posix = false,
  ) {
    this.description = `${resolved.user}@${resolved.hostName}${resolved.port === 22 ? "" : ` port ${resolved.port}`}`;
    client.setMaxListeners(100); // one "close" listener per command in flight
    client.on("close", () => {
      this.lostReason ??= "the connection was closed";
    });
    client.on("error", (err: Error) => {
      this.lostReason = err.message;
    });
  }

  private assertOpen(what: string): void {
    if (this.closed) throw netdbgError("E819", { host: this.description, what });
  }

  /** Run one command line (build it with core/quote.ts). Resolves with the exit code; rejects only when it could not run or finish. */
  exec(command: string, options: SshExecOptions = {}): Promise<CommandResult> {
    this.assertOpen(`run '${command}'`);
    const step = options.step ?? "remote command";
    if (!this.posix && (options.env !== undefined || options.cwd !== undefined)) {
      throw new TypeError("env and cwd need a POSIX remote shell; on Windows targets put them in the PowerShell script");
    }
    const line = posixCommandLine(command, {
      ...(options.env ? { env: options.env } : {}),
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    // what logs and errors show: never the input (may hold a sudo password), never an encoded payload
    const shown = options.display ?? displayCommand(command);
    this.logger.debug(`ssh ${this.description}: ${shown}`);

    return new Promise<CommandResult>((resolve, reject) => {
      const lost = (reason: string) => netdbgError("E808", { step, host: this.description, command: shown, reason });
      if (this.lostReason) return reject(lost(this.lostReason));
      this.client.exec(this.posix ? `${PID_MARKER_COMMAND}${line}` : line, (err, ch) => {
        if (err) {
          // The connection is up but the server refused one more channel (sshd MaxSessions, default 10).
          if (!this.lostReason && /open failure|open failed/i.test(err.message)) {
            return reject(netdbgError("E821", { step, host: this.description, command: shown, reason: err.message }));
          }
          return reject(lost(err.message));
        }
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let code: number | undefined;
        let signal: string | undefined;
        let done = false;
        const onClientClose = () => finish(() => reject(lost(this.lostReason ?? "the connection was closed")));
        const finish = (f: () => void) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          this.client.removeListener("close", onClientClose);
          f();
        };
        const stderrText = () => Buffer.concat(errOut).toString("utf8").replace(PID_MARKER, "");
        const timer = setTimeout(() => {
          finish(() => {
            const pid = PID_MARKER.exec(Buffer.concat(errOut).toString("utf8"))?.[1];
            try {
              ch.signal("KILL"); // honoured by some servers; OpenSSH 9.2 leaves children running
            } catch {}
            const stopped = pid ? this.killProcessGroup(Number(pid)) : Promise.resolve();
            void stopped.then(() => {
              ch.close();
              reject(
                netdbgError("E807", {
                  step,
                  host: this.description,
                  command: shown,
                  seconds: Math.round(timeoutMs / 100) / 10,
                  stderrTail: tail(stderrText()),
                }),
              );
            });
          });
        }, timeoutMs);
        this.client.once("close", onClientClose);
        ch.on("data", (d: Buffer) => out.push(d));
        ch.stderr.on("data", (d: Buffer) => errOut.push(d));
        ch.on("exit", (c: number | null, sig?: string) => {
          if (typeof c === "number") code = c;
          else signal = sig ?? undefined;
        });
        ch.on("close", () =>
          finish(() =>
            resolve({
              stdout: Buffer.concat(out).toString("utf8"),
              stderr: stderrText(),
              exitCode: code ?? signalExitCode(signal),
            }),
          ),
        );
        ch.on("error", (e: Error) => finish(() => reject(lost(e.message))));
        if (options.input !== undefined) ch.end(options.input);
        else ch.end();
      });
    });
  }

  /** TERM then KILL the remote process group `pgid` (best effort, bounded: never throws). */
  private async killProcessGroup(pgid: number): Promise<void> {
    if (!Number.isSafeInteger(pgid) || pgid <= 1) return;
    const cmd = `kill -TERM -${pgid} 2>/dev/null; sleep 1; kill -KILL -${pgid} 2>/dev/null; true`; // dash: no "--"
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 10_000);
      this.client.exec(cmd, (err, ch) => {
        if (err) {
          clearTimeout(t);
          return resolve();
        }
        ch.on("close", () => {
          clearTimeout(t);
          resolve();
        });
        ch.resume();
        ch.stderr.resume();
        ch.end();
      });
    });
  }

  private sftpSession(): Promise<SFTPWrapper> {
    return new Promise((resolve, reject) => {
      this.client.sftp((err, sftp) => {
        if (err) reject(netdbgError("E810", { host: this.description, reason: err.message }));
        else resolve(sftp);
      });
    });
  }

  private sftpError(op: "upload" | "download", path: string, e: unknown): NetdbgError {
    const err = e as Error & { code?: number };
    const reason = err.code === 2 ? "no such file or directory" : err.code === 3 ? "permission denied" : err.message;
    return netdbgError("E809", { op, host: this.description, path, reason, user: this.resolved.user }, { cause: e });
  }

  /** SFTP upload; `mode` is applied with chmod after writing, so the remote umask cannot narrow it. */
  async upload(
    localPathOrContent: { path: string } | { content: string | Uint8Array },
    remotePath: string,
    mode = 0o644,
  ): Promise<void> {
    this.assertOpen(`upload ${remotePath}`);
    const data = "path" in localPathOrContent ? await readFile(localPathOrContent.path) : localPathOrContent.content;
    const sftp = await this.sftpSession();
    try {
      await new Promise<void>((resolve, reject) =>
        sftp.writeFile(remotePath, typeof data === "string" ? data : Buffer.from(data), { mode }, (err) =>
          err ? reject(err) : resolve(),
        ),
      );
      await new Promise<void>((resolve, reject) =>
        sftp.chmod(remotePath, mode, (err) => (err && this.posix ? reject(err) : resolve())),
      ); // Windows' sftp-server has no POSIX modes: a refused chmod is not an error there
    } catch (e) {
      throw this.sftpError("upload", remotePath, e);
    } finally {
      sftp.end();
    }
  }

  async download(remotePath: string): Promise<Uint8Array> {
    this.assertOpen(`download ${remotePath}`);
    const sftp = await this.sftpSession();
    try {
      return await new Promise<Buffer>((resolve, reject) =>
        sftp.readFile(remotePath, (err, buf) => (err ? reject(err) : resolve(buf))),
      );
    } catch (e) {
      throw this.sftpError("download", remotePath, e);
    } finally {
      sftp.end();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of [this.client, ...[...this.jumpClients].reverse()]) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        c.once("close", () => {
          clearTimeout(t);
          resolve();
        });
        c.end();
      });
    }
  }
}

/** Connect to a target: resolve inventory + ssh_config, walk the ProxyJump chain, check host keys, authenticate. */
export async function connectSsh(opts: SshConnectOptions): Promise<SshSession> {
  const resolved = await resolveSshTarget(opts.target, opts);
  const knownHostsFile =
    opts.knownHostsPath ??
    opts.target.ssh?.knownHostsFile ??
    resolved.userKnownHostsFile ??
    join(opts.homeDir ?? homedir(), ".ssh", "known_hosts");
  const agentSocket = opts.agentSocket === undefined ? process.env.SSH_AUTH_SOCK : (opts.agentSocket ?? undefined);
  const ctx: HopContext = {
    opts,
    knownHostsFile,
    knownHosts: await readKnownHosts(knownHostsFile),
    agent: agentSocket || undefined,
    logger: opts.logger ?? nullLogger,
  };
  const chain = [...resolved.jumps, resolved];
  const clients: SshClient[] = [];
  try {
    let prev: { client: SshClient; hop: SshHop } | undefined;
    for (const hop of chain) {
      const sock = prev ? await forwardOut(prev.client, hop, prev.hop) : undefined;
      const client = await connectHop(hop, ctx, sock, prev ? describeHop(prev.hop) : undefined);
      clients.push(client);
      prev = { client, hop };
    }
  } catch (e) {
    for (const c of clients.reverse()) c.end();
    throw e;
  }
  const main = clients.pop()!;
  const posix = opts.posixShell ?? opts.target.os === "linux";
  return new SshSession(main, clients, resolved, opts.defaultTimeoutMs ?? 600_000, ctx.logger, posix);
}
