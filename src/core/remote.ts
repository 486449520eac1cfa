/**
 * Running steps on a RemoteSession (the port; the SSH adapter is src/io/ssh.ts, fakes in test/fakes):
 * - runStep: one command, failing with a coded error that names the step, the command and its stderr tail;
 * - sudo for non-root POSIX users: probe (`sudo -n true`), then `sudo -S -k -p ''` with the password sent on
 *   stdin once per command — never in a command line, a log line or an error. Behaviour of sudo's -S/-k/-n/-p
 *   checked against sudo(8) 1.9.13 (Debian 12) in test/core/remote.test.ts with a real sudo behind a real sshd.
 * Windows targets do not use sudo: they check elevation themselves.
 */
import { netdbgError } from "./error.js";
import type { CommandResult, RemoteSession, RunOptions } from "./interfaces.js";
import { shQuote } from "./quote.js";

/** RunOptions plus the step name: adapters that know it (the SSH adapter) name it in timeout errors. */
export interface StepRunOptions extends RunOptions {
  step: string;
  /** Exit codes that count as success (default [0]). */
  okExitCodes?: readonly number[];
  /** The fix printed when the command fails (default: read the error, fix its cause, run again). */
  fix?: string;
}

const TAIL_LINES = 5;
const TAIL_CHARS = 600;

/** The last few lines of a command's stderr, for error messages. */
export function stderrTail(text: string): string {
  const lines = text.replace(/\r\n/g, "\n").trimEnd().split("\n").slice(-TAIL_LINES).join("\n").trim();
  return lines.length > TAIL_CHARS ? `…${lines.slice(-TAIL_CHARS)}` : lines;
}

/** Run one remote step; a non-accepted exit code throws NETDBG-E806 naming step, host, command and stderr tail. */
export async function runStep(session: RemoteSession, command: string, opts: StepRunOptions): Promise<CommandResult> {
  const { okExitCodes, fix, ...runOpts } = opts;
  const r = await session.exec(command, runOpts);
  if (!(okExitCodes ?? [0]).includes(r.exitCode)) {
    throw netdbgError("E806", {
      step: opts.step,
      host: session.description,
      command,
      exitCode: r.exitCode,
      stderrTail: stderrTail(r.stderr || r.stdout),
      ...(fix === undefined ? {} : { fix }),
    });
  }
  return r;
}

/** `cd DIR && env K=V… sh -c CMD` for POSIX shells; values quoted with shQuote. */
export function posixCommandLine(command: string, opts: { env?: Record<string, string>; cwd?: string } = {}): string {
  let line = command;
  const env = Object.entries(opts.env ?? {});
  if (env.length > 0) {
    const assigns = env.map(([k, v]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new TypeError(`invalid environment variable name '${k}'`);
      return shQuote(`${k}=${v}`);
    });
    line = `env ${assigns.join(" ")} sh -c ${shQuote(line)}`;
  }
  if (opts.cwd !== undefined) line = `cd ${shQuote(opts.cwd)} && ${line}`;
  return line;
}

export type SudoMode = "root" | "nopasswd" | "password" | "missing";

/** Prints "<mode> <user>". `sudo -n true` fails without a prompt when a password would be needed. */
export const SUDO_PROBE =
  'u=$(id -un); if [ "$(id -u)" = 0 ]; then echo root "$u"; elif ! command -v sudo >/dev/null 2>&1; then echo missing "$u"; elif sudo -n true >/dev/null 2>&1; then echo nopasswd "$u"; else echo password "$u"; fi';

export async function probeSudo(session: RemoteSession): Promise<{ mode: SudoMode; user: string }> {
  const r = await runStep(session, SUDO_PROBE, { step: "check sudo", timeoutMs: 30_000 });
  const [mode, user] = r.stdout.trim().split(/\s+/);
  if (mode !== "root" && mode !== "nopasswd" && mode !== "password" && mode !== "missing") {
    throw netdbgError("E806", {
      step: "check sudo",
      host: session.description,
      command: SUDO_PROBE,
      exitCode: r.exitCode,
      stderrTail: `unexpected output '${stderrTail(r.stdout)}'`,
    });
  }
  return { mode, user: user ?? "?" };
}

/** The sudo prefix for a mode. `-k` makes sudo always read the password, so it is never left unread on stdin. */
export function sudoPrefix(mode: "nopasswd" | "password"): string {
  return mode === "password" ? "sudo -S -k -p '' --" : "sudo -n --";
}

/** Map sudo's own complaints (sudo(8), sudoers(5) messages, C locale) to coded errors; undefined when none. */
export function classifySudoFailure(stderr: string, host: string, user: string): ReturnType<typeof netdbgError> | undefined {
  const s = stderr;
  if (/^sudo: .*(incorrect password attempt|no password was provided)|^Sorry, try again\./m.test(s)) {
    return netdbgError("E812", { host, user });
  }
  if (/^sudo: .*(a terminal is required|you must have a tty|no tty present)/m.test(s)) return netdbgError("E815", { host, user });
  if (/is not in the sudoers file|is not allowed to execute|may not run sudo on/m.test(s)) {
    return netdbgError("E813", { host, user, stderrTail: stderrTail(s) });
  }
  if (/^sudo: .*a password is required/m.test(s)) return netdbgError("E811", { host, user });
  if (/(^|: )sudo: (command )?not found/m.test(s)) return netdbgError("E814", { host, user });
  return undefined;
}

/**
 * The root-side wrapper of a sudo'd command. A timeout (src/io/ssh.ts) signals the user's process group, which
 * cannot reach root processes; sudo relays that SIGTERM to this shell only, so the shell turns it into
 * `kill -TERM 0` for its whole group. Stdin is kept (fd 3: a background job would otherwise read /dev/null) and
 * the exit code is the command's (`wait $!`). Checked with dash and bash under sudo 1.9.13.
 */
export function sudoGuard(command: string): string {
  return `exec 3<&0; trap 'trap - TERM; kill -TERM 0' TERM; sh -c ${shQuote(command)} 0<&3 3<&- & wait $!`;
}

export interface SudoContext {
  mode: SudoMode;
  /** The remote user (for messages). */
  user: string;
  /** Needed when mode is "password". Never logged. */
  password?: string;
}

/**
 * A RemoteSession whose commands run as root: exec through sudo (env/cwd applied inside it), upload through a
 * mktemp file then `install -m`, download through `base64`. For root it returns the session unchanged.
 */
export function withSudo(session: RemoteSession, ctx: SudoContext): RemoteSession {
  if (ctx.mode === "root") return session;
  if (ctx.mode === "missing") throw netdbgError("E814", { host: session.description, user: ctx.user });
  if (ctx.mode === "password" && ctx.password === undefined)
    throw netdbgError("E811", { host: session.description, user: ctx.user });
  const mode = ctx.mode;
  const password = ctx.password ?? "";

  const exec = async (command: string, opts: RunOptions & { step?: string } = {}): Promise<CommandResult> => {
    const { env, cwd, input, ...rest } = opts;
    const inner = posixCommandLine(command, { ...(env ? { env } : {}), ...(cwd === undefined ? {} : { cwd }) });
    const line = `${sudoPrefix(mode)} sh -c ${shQuote(sudoGuard(inner))}`;
    const stdin = mode === "password" ? `${password}\n${input ?? ""}` : input;
    const r = await session.exec(line, { ...rest, ...(stdin === undefined ? {} : { input: stdin }) });
    if (r.exitCode !== 0) {
      const sudoErr = classifySudoFailure(r.stderr, session.description, ctx.user);
      if (sudoErr) throw sudoErr;
    }
    return r;
  };

  return {
    description: `${session.description} (sudo)`,
    exec,
    async upload(src, remotePath, fileMode = 0o644) {
      const tmp = (await runStep(session, "mktemp /tmp/netdbg-upload.XXXXXXXX", { step: `upload ${remotePath}` })).stdout.trim();
      try {
        await session.upload(src, tmp, 0o600);
        const cmd = `install -m ${fileMode.toString(8).padStart(4, "0")} -- ${shQuote(tmp)} ${shQuote(remotePath)}`;
        const r = await exec(cmd, { step: `install ${remotePath}` });
        if (r.exitCode !== 0) {
          throw netdbgError("E806", {
            step: `upload ${remotePath}`,
            host: session.description,
            command: cmd,
            exitCode: r.exitCode,
            stderrTail: stderrTail(r.stderr),
          });
        }
      } finally {
        await session.exec(`rm -f -- ${shQuote(tmp)}`).catch(() => {});
      }
    },
    async download(remotePath) {
      const cmd = `base64 -- ${shQuote(remotePath)}`;
      const r = await exec(cmd, { step: `download ${remotePath}` });
      if (r.exitCode !== 0) {
        throw netdbgError("E806", {
          step: `download ${remotePath}`,
          host: session.description,
          command: cmd,
          exitCode: r.exitCode,
          stderrTail: stderrTail(r.stderr),
        });
      }
      return new Uint8Array(Buffer.from(r.stdout, "base64"));
    },
    close: () => session.close(),
  };
}

/** Check a sudo password once (`sudo -S -k -p '' true`); throws E812/E813/… when sudo refuses it. */
export async function verifySudoPassword(session: RemoteSession, user: string, password: string): Promise<void> {
  const r = await session.exec(`${sudoPrefix("password")} true`, { input: `${password}\n`, timeoutMs: 30_000 });
  if (r.exitCode === 0) return;
  throw (
    classifySudoFailure(r.stderr, session.description, user) ??
    netdbgError("E806", {
      step: "check the sudo password",
      host: session.description,
      command: `${sudoPrefix("password")} true`,
      exitCode: r.exitCode,
      stderrTail: stderrTail(r.stderr),
    })
  );
}

/**
 * Probe how to become root and return a root session: as-is for root, `sudo -n` when passwordless, otherwise ask
 * for the password once (askPassword, e.g. the CLI's masked prompt; absent when not interactive → E811), check it,
 * and use it for every command.
 */
export async function elevate(
  session: RemoteSession,
  opts: { password?: string; askPassword?: (prompt: { host: string; user: string }) => Promise<string> } = {},
): Promise<{ session: RemoteSession; mode: SudoMode; user: string }> {
  const { mode, user } = await probeSudo(session);
  if (mode !== "password") return { session: withSudo(session, { mode, user }), mode, user };
  let password = opts.password;
  if (password === undefined) {
    if (!opts.askPassword) throw netdbgError("E811", { host: session.description, user });
    password = await opts.askPassword({ host: session.description, user });
  }
  await verifySudoPassword(session, user, password);
  return { session: withSudo(session, { mode, user, password }), mode, user };
}
