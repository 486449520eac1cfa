/**
 * Resolve how to reach a target over SSH: the inventory entry first (like options on the ssh command line),
 * then ssh_config as OpenSSH itself reads it (`ssh -G <alias>`: Include, Match, /etc/ssh/ssh_config,
 * UserKnownHostsFile), falling back, when ssh is not installed, to ~/.ssh/config parsed by the `ssh-config`
 * package (OpenSSH first-match-wins semantics, keywords case-insensitive, `Match exec` never run), then
 * OpenSSH's defaults. Keywords and tokens checked against
 * ssh_config(5) of OpenSSH 9.2: HostName (%h, %%), User, Port, IdentityFile (~, %d, %u, %h, %r, %%),
 * IdentitiesOnly, HostKeyAlias, ProxyJump (`[user@]host[:port]`, comma-separated, or `none`).
 * Not supported (documented, not silently wrong): ProxyCommand, CertificateFile; Include and Match only
 * through ssh -G.
 */
import { readFile } from "node:fs/promises";
import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import SSHConfig from "ssh-config";
import { netdbgError } from "../core/error.js";
import type { Target } from "../core/inventory.js";

export interface SshHop {
  /** The name looked up in ssh_config (alias), e.g. "lab" or "10.0.0.5". */
  alias: string;
  /** Where the TCP connection goes (HostName, or the alias). */
  hostName: string;
  port: number;
  user: string;
  /** Private key files to offer, in order (expanded, may not exist: defaults are skipped when missing). */
  identityFiles: string[];
  /** Which of identityFiles were named explicitly (a missing explicit file is an error). */
  explicitIdentityFiles: string[];
  identitiesOnly: boolean;
  /** The name recorded in known_hosts (HostKeyAlias or HostName). */
  hostKeyName: string;
}

export interface ResolvedSsh extends SshHop {
  /** ProxyJump hops, first hop first; empty when connecting directly. */
  jumps: SshHop[];
  /** The ssh_config file read, if any ("ssh -G" when OpenSSH resolved it). */
  configFile?: string;
  /** The first UserKnownHostsFile ssh_config names (expanded), when it names one other than OpenSSH's default. */
  userKnownHostsFile?: string;
}

export interface ResolveOptions {
  /** ssh_config path; default $NETDBG_SSH_CONFIG, else ~/.ssh/config; `null` reads none. */
  sshConfigPath?: string | null;
  /** Home directory for `~` and the default key files; default os.homedir(). */
  homeDir?: string;
  /** Local user name (default user, %u); default os.userInfo().username. */
  localUser?: string;
  /**
   * Resolve through OpenSSH's own `ssh -G` (Include, Match, /etc/ssh/ssh_config: exactly what ssh would use),
   * falling back to the parser when ssh is not installed or fails. Default: true unless sshConfigPath is null or
   * homeDir/localUser emulate another environment; the path given (or ~/.ssh/config under homeDir) is passed as -F when it is not the user's own.
   */
  useOpenSsh?: boolean;
  /** The ssh executable (default "ssh" on PATH). */
  sshBinary?: string;
}

/** OpenSSH's default IdentityFile list, which `ssh -G` prints when none is configured (ssh_config(5)). */
const OPENSSH_DEFAULT_IDS = new Set(
  ["id_rsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519", "id_ed25519_sk", "id_xmss", "id_dsa"].map((f) => `~/.ssh/${f}`),
);

/** `ssh -G` output: one "keyword value" a line, keywords lower-case; IdentityFile and the like repeat. */
export function parseSshG(text: string): Computed {
  const out: Record<string, string[]> = {};
  for (const line of text.split("\n")) {
    const m = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    const k = m[1]!.toLowerCase();
    (out[k] ??= []).push(m[2]!);
  }
  return out;
}

/** Ask OpenSSH how it would reach `alias`; undefined when ssh is missing or refuses (the parser decides then). */
async function sshG(alias: string, args: string[], binary: string): Promise<Computed | undefined> {
  if (alias.startsWith("-")) return undefined; // never an option to ssh
  const { execFile } = await import("node:child_process");
  return new Promise((resolve) => {
    execFile(binary, ["-G", ...args, "--", alias], { timeout: 10_000, encoding: "utf8" }, (err, stdout) => {
      resolve(err ? undefined : parseSshG(stdout));
    });
  });
}

type Computed = Record<string, string | string[]>;

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function all(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function expandTokens(value: string, t: { home: string; localUser: string; host: string; user: string }): string {
  let v = value;
  if (v === "~" || v.startsWith("~/")) v = t.home + v.slice(1);
  return v.replace(/%([%dhur])/g, (_m, c: string) =>
    c === "%" ? "%" : c === "d" ? t.home : c === "u" ? t.localUser : c === "h" ? t.host : t.user,
  );
}

/** `[user@]host[:port]`, `user@[v6addr]:port` or `ssh://[user@]host[:port]` (ssh_config(5) ProxyJump). */
export function parseJumpSpec(spec: string): { user?: string; host: string; port?: number } | undefined {
  let s = spec.trim();
  if (s.startsWith("ssh://")) s = s.slice(6).replace(/\/$/, "");
  let user: string | undefined;
  const at = s.lastIndexOf("@");
  if (at >= 0) {
    user = s.slice(0, at);
    s = s.slice(at + 1);
  }
  let host = s;
  let port: number | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) {
    host = v6[1]!;
    if (v6[2]) port = Number(v6[2]);
  } else {
    const m = /^([^:]+):(\d+)$/.exec(s);
    if (m) {
      host = m[1]!;
      port = Number(m[2]);
    } else if (s.includes(":")) return undefined;
  }
  if (!host || (port !== undefined && (port < 1 || port > 65535)) || user === "") return undefined;
  const out: { user?: string; host: string; port?: number } = { host };
  if (user !== undefined) out.user = user;
  if (port !== undefined) out.port = port;
  return out;
}

export async function loadSshConfig(file: string | null): Promise<SSHConfig | undefined> {
  if (file === null) return undefined;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw netdbgError("E817", { file, problem: (e as Error).message });
  }
  try {
    return SSHConfig.parse(text);
  } catch (e) {
    throw netdbgError("E817", { file, problem: (e as Error).message });
  }
}

function hopFrom(
  alias: string,
  computed: Computed,
  explicit: { user?: string | undefined; port?: number | undefined; identityFile?: string | undefined },
  env: { home: string; localUser: string },
  configFile: string,
): SshHop {
  const hostName = first(computed.hostname) ? expandTokens(first(computed.hostname)!, { ...env, host: alias, user: "" }) : alias;
  const user = explicit.user ?? first(computed.user) ?? env.localUser;
  const portText = first(computed.port);
  let port = explicit.port ?? 22;
  if (explicit.port === undefined && portText !== undefined) {
    port = Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw netdbgError("E817", { file: configFile, problem: `Port '${portText}' for host '${alias}' is not a port number` });
    }
  }
  const tokens = { ...env, host: hostName, user };
  const explicitFiles = [
    ...(explicit.identityFile ? [explicit.identityFile] : []),
    ...all(computed.identityfile).filter((f) => f.toLowerCase() !== "none"),
  ].map((f) => expandTokens(f, tokens));
  const defaults = ["id_ed25519", "id_ecdsa", "id_rsa"].map((f) => join(env.home, ".ssh", f));
  const identityFiles = explicitFiles.length > 0 ? [...new Set(explicitFiles)] : defaults;
  const hostKeyAlias = first(computed.hostkeyalias);
  return {
    alias,
    hostName,
    port,
    user,
    identityFiles,
    explicitIdentityFiles: [...new Set(explicitFiles)],
    identitiesOnly: first(computed.identitiesonly)?.toLowerCase() === "yes",
    hostKeyName: hostKeyAlias ?? hostName,
  };
}

/** Resolve the target's SSH endpoint and its ProxyJump chain. Reads only the ssh_config file. */
export async function resolveSshTarget(
  target: Pick<Target, "name" | "address" | "ssh">,
  opts: ResolveOptions = {},
): Promise<ResolvedSsh> {
  const home = opts.homeDir ?? homedir();
  const localUser = opts.localUser ?? userInfo().username;
  // NETDBG_SSH_CONFIG: another ssh_config for netdbg alone (as `ssh -F`)
  const configFile =
    opts.sshConfigPath === undefined ? process.env.NETDBG_SSH_CONFIG || join(home, ".ssh", "config") : opts.sshConfigPath;
  const config = await loadSshConfig(configFile);
  const compute = (alias: string): Computed =>
    config ? (config.compute(alias, { ignoreCase: true, matchExec: false }) as Computed) : {};
  const env = { home, localUser };
  const file = configFile ?? "(no ssh_config)";

  const alias = target.ssh?.host ?? target.address;
  let computed = compute(alias);
  let viaOpenSsh = false;
  // an emulated home or user (tests, the demo) is the parser's: ssh -G knows only the real ones
  const emulated = opts.homeDir !== undefined || opts.localUser !== undefined;
  if ((opts.useOpenSsh ?? !emulated) && configFile !== null) {
    const own = join(homedir(), ".ssh", "config");
    const g = await sshG(alias, configFile === own ? [] : ["-F", configFile], opts.sshBinary ?? "ssh");
    if (g) {
      // -G prints OpenSSH's default key list when none is configured: those stay defaults (skipped when missing)
      const ids = all(g.identityfile);
      if (ids.every((f) => OPENSSH_DEFAULT_IDS.has(f))) delete g.identityfile;
      // and the local user and port 22 when none is configured: the inventory's explicit values win below
      computed = g;
      viaOpenSsh = true;
    }
  }
  const main = hopFrom(
    alias,
    computed,
    { user: target.ssh?.user, port: target.ssh?.port, identityFile: target.ssh?.identityFile },
    env,
    file,
  );

  const jumps: SshHop[] = [];
  const jumpText = first(computed.proxyjump);
  if (jumpText !== undefined && jumpText.toLowerCase() !== "none") {
    for (const spec of jumpText.split(",")) {
      const j = parseJumpSpec(spec);
      if (!j) throw netdbgError("E817", { file, problem: `ProxyJump '${spec}' for host '${alias}' is not [user@]host[:port]` });
      // A hop's own ProxyJump is not followed (the chain is the one listed here), as documented above.
      jumps.push(hopFrom(j.host, compute(j.host), { user: j.user, port: j.port }, env, file));
    }
  }
  const proxyCommand = first(computed.proxycommand);
  if (proxyCommand !== undefined && proxyCommand.toLowerCase() !== "none" && jumps.length === 0) {
    throw netdbgError("E817", {
      file,
      problem: `host '${alias}' uses ProxyCommand, which netdbg does not run; use ProxyJump instead`,
    });
  }
  const out: ResolvedSsh = { ...main, jumps };
  if (viaOpenSsh) out.configFile = "ssh -G";
  else if (config && configFile) out.configFile = configFile;
  const ukh = all(computed.userknownhostsfile).flatMap((v) => v.split(/\s+/));
  // OpenSSH's default (ssh -G prints it expanded with the passwd home): "<home>/.ssh/known_hosts <same>2"
  const isDefault = /(^~|)\/\.ssh\/known_hosts$/.test(ukh[0] ?? "") && (ukh.length === 1 || ukh[1] === `${ukh[0]}2`);
  if (ukh[0] && !isDefault && ukh[0].toLowerCase() !== "none")
    out.userKnownHostsFile = expandTokens(ukh[0], { home, localUser, host: main.hostName, user: main.user });
  return out;
}
