/**
 * A REAL OpenSSH sshd on loopback for integration tests (recipe: research/toolchain.md, "Real sshd recipe"):
 * throwaway ed25519 host key, key-only users, StrictModes no (keys live under /tmp), PidFile, ListenAddress
 * 127.0.0.1 on a free port, optional ForceCommand. Also test users (prefix `ndssh`) with an optional sudo rule,
 * and client keys made by ssh-keygen. Needs root (useradd, sshd) — we are root here and in CI.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { connectSsh, type SshSession } from "../../src/io/ssh.js";
import { freeTcpPort } from "./ports.js";

const SSHD = "/usr/sbin/sshd";

export function requireTool(path: string, pkg: string): void {
  if (!existsSync(path)) {
    throw new Error(
      `${path} is missing: install the Debian package '${pkg}' (apt-get install -y ${pkg}; it is in .ci/apt-packages.txt).`,
    );
  }
}

/** A temp dir named with the branch prefix, world-traversable so sshd's privilege-separated child can read keys. */
export function tempDir(label: string): string {
  const d = mkdtempSync(join(tmpdir(), `nd-ssh-${label}-`));
  execFileSync("chmod", ["755", d]);
  return d;
}

export interface KeyPair {
  privateKeyPath: string;
  /** The OpenSSH public key line. */
  publicKey: string;
}

export function makeKeyPair(dir: string, name: string, type: "ed25519" | "rsa" = "ed25519", passphrase = ""): KeyPair {
  requireTool("/usr/bin/ssh-keygen", "openssh-client");
  const file = join(dir, name);
  execFileSync("ssh-keygen", [
    "-q",
    "-t",
    type,
    ...(type === "rsa" ? ["-b", "2048"] : []),
    "-N",
    passphrase,
    "-C",
    name,
    "-f",
    file,
  ]);
  return { privateKeyPath: file, publicKey: readFileSync(`${file}.pub`, "utf8").trim() };
}

/** `ssh-keygen -lf` of a public key file → "SHA256:…". The reference the adapter's fingerprints are tested against. */
export function sshKeygenFingerprint(pubFile: string): string {
  const out = execFileSync("ssh-keygen", ["-lf", pubFile], { encoding: "utf8" });
  const fp = out.split(/\s+/)[1];
  if (!fp?.startsWith("SHA256:")) throw new Error(`unexpected ssh-keygen -lf output: ${out}`);
  return fp;
}

/**
 * A test user name unique to this process: `ndssh<role><pid>`. Other worktrees run these same tests at the same
 * time on this machine, and a shared fixed name would let one run delete the other's user mid-test.
 */
export function testUserName(role: string): string {
  const name = `ndssh${role}${process.pid}`;
  if (!/^[a-z][a-z0-9]{0,31}$/.test(name)) throw new Error(`bad test user name ${name}`);
  return name;
}

export interface TestUserOptions {
  /** Login password (only sudo uses it: sshd runs key-only). */
  password?: string;
  /** Add a sudoers.d rule for the user. */
  sudo?: "password" | "nopasswd";
}

/** Create a local user named ndssh…; key-only unless a password is given. Remove it with removeTestUser. */
export function createTestUser(name: string, opts: TestUserOptions = {}): void {
  if (!name.startsWith("ndssh")) throw new Error("test users must be named ndssh…");
  removeTestUser(name);
  execFileSync("useradd", ["-m", "-s", "/bin/sh", name]);
  if (opts.password !== undefined) {
    execFileSync("chpasswd", [], { input: `${name}:${opts.password}\n` });
  } else {
    execFileSync("usermod", ["-p", "*", name]); // key-only, not "locked" (UsePAM no refuses locked accounts)
  }
  if (opts.sudo) {
    requireTool("/usr/bin/sudo", "sudo");
    const rule = `${name} ALL=(ALL:ALL) ${opts.sudo === "nopasswd" ? "NOPASSWD: " : ""}ALL\n`;
    writeFileSync(`/etc/sudoers.d/${name}`, rule, { mode: 0o440 });
  }
}

export function removeTestUser(name: string): void {
  if (!name.startsWith("ndssh")) throw new Error("only ndssh… test users are removed");
  rmSync(`/etc/sudoers.d/${name}`, { force: true });
  try {
    execFileSync("id", [name], { stdio: "ignore" });
  } catch {
    return;
  }
  try {
    execFileSync("pkill", ["-KILL", "-u", name], { stdio: "ignore" });
  } catch {}
  execFileSync("userdel", ["-r", "-f", name], { stdio: "ignore" });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect({ host: "127.0.0.1", port });
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}

export interface SshdOptions {
  /** user → authorized public key lines. Only these users may log in. */
  authorizedKeys: Record<string, string[]>;
  forceCommand?: string;
  /** More sshd_config lines, placed first so they win over the defaults (e.g. "LogLevel DEBUG1"). */
  extraConfig?: string[];
}

export interface Sshd {
  host: "127.0.0.1";
  port: number;
  dir: string;
  /** Host public key file (for ssh-keygen -lf) and its key line "ssh-ed25519 AAAA…". */
  hostPublicKeyFile: string;
  hostPublicKey: string;
  log(): string;
  stop(): Promise<void>;
}

export async function startSshd(opts: SshdOptions): Promise<Sshd> {
  requireTool(SSHD, "openssh-server");
  requireTool("/usr/bin/ssh-keygen", "openssh-client");
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const dir = tempDir("sshd");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_ed25519")]);
  const akDir = join(dir, "authorized_keys");
  mkdirSync(akDir, { mode: 0o755 });
  for (const [user, keys] of Object.entries(opts.authorizedKeys)) {
    writeFileSync(join(akDir, user), `${keys.join("\n")}\n`, { mode: 0o644 });
  }
  const logFile = join(dir, "sshd.log");
  const pidFile = join(dir, "sshd.pid");

  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freeTcpPort();
    const cfg = [
      ...(opts.extraConfig ?? []), // first: sshd keeps the first value of a keyword
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${join(dir, "host_ed25519")}`,
      `PidFile ${pidFile}`,
      `AuthorizedKeysFile ${akDir}/%u`,
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      "UsePAM no",
      "StrictModes no",
      "PermitRootLogin no",
      "AllowTcpForwarding yes",
      "X11Forwarding no",
      "PrintMotd no",
      "LogLevel VERBOSE",
      `AllowUsers ${Object.keys(opts.authorizedKeys).join(" ")}`,
      "Subsystem sftp internal-sftp",
      ...(opts.forceCommand ? [`ForceCommand ${opts.forceCommand}`] : []),
    ];
    const cfgFile = join(dir, "sshd_config");
    writeFileSync(cfgFile, `${cfg.join("\n")}\n`);
    const child: ChildProcess = spawn(SSHD, ["-D", "-f", cfgFile, "-E", logFile], { stdio: "ignore" });
    let exited = false;
    child.once("exit", () => {
      exited = true;
    });
    for (let i = 0; i < 200 && !exited; i++) {
      if (await canConnect(port)) {
        const hostPublicKeyFile = join(dir, "host_ed25519.pub");
        return {
          host: "127.0.0.1",
          port,
          dir,
          hostPublicKeyFile,
          hostPublicKey: readFileSync(hostPublicKeyFile, "utf8").trim().split(" ").slice(0, 2).join(" "),
          log: () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : ""),
          stop: async () => {
            if (!exited) {
              child.kill("SIGTERM");
              await new Promise<void>((r) => (exited ? r() : child.once("exit", () => r())));
            }
            rmSync(dir, { recursive: true, force: true });
          },
        };
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    if (!exited) child.kill("SIGKILL");
  }
  const log = existsSync(logFile) ? readFileSync(logFile, "utf8") : "";
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`sshd did not start on loopback: ${log.slice(-2000)}`);
}

export interface SshdLogin {
  /** The test user (testUserName(role)). */
  readonly user: string;
  /** The file's temp dir (the client key, known_hosts; the test may put its own files there). */
  readonly dir: string;
  /** Log in as the user with its key, the host key pinned; no ssh config, no agent. */
  open(): Promise<SshSession>;
}

/**
 * For the tests of one file: a test user (`user` options: a password, a sudo rule) whose ed25519 key a real sshd
 * on 127.0.0.1 accepts, made before the file's tests and removed after them with the sshd and the temp dir.
 */
export function sshdLogin(role: string, userOptions: TestUserOptions = {}): SshdLogin {
  const user = testUserName(role);
  let dir: string | undefined;
  let sshd: Sshd | undefined;
  let key: KeyPair | undefined;
  beforeAll(async () => {
    dir = tempDir(role);
    key = makeKeyPair(dir, "id_ed25519");
    createTestUser(user, userOptions);
    sshd = await startSshd({ authorizedKeys: { [user]: [key.publicKey] } });
  });
  afterAll(async () => {
    await sshd?.stop();
    removeTestUser(user);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const started = () => {
    if (!dir || !sshd || !key) throw new Error("sshdLogin: the sshd starts in beforeAll; use it inside a test");
    return { dir, sshd, key };
  };
  return {
    user,
    get dir() {
      return started().dir;
    },
    open: async () => {
      const { dir, sshd, key } = started();
      const knownHostsPath = join(dir, "known_hosts");
      writeFileSync(knownHostsPath, `[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey}\n`);
      return connectSsh({
        target: { name: "self", address: "127.0.0.1", ssh: { user, port: sshd.port, identityFile: key.privateKeyPath } },
        sshConfigPath: null,
        knownHostsPath,
        agentSocket: null,
        homeDir: dir,
      });
    },
  };
}
