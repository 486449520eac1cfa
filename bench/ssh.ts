/**
 * One remote command's round trip over SSH: netdbg's SSH session (src/io/ssh.ts) against a real OpenSSH sshd on
 * loopback (a throwaway user whose shell is /bin/sh, so no shell start-up file of this machine's counts; host and
 * client keys in a temp folder, key auth only), next to a bare ssh2
 * client with the library's defaults on the same server. A setup, doctor and teardown run dozens of commands, so
 * this time is paid many times over. Median of RUNS commands each: `true`, and `cat` with a few hundred bytes of
 * input (the shape of a sudo password or a `-Command -` script). The bare client keeps Nagle's algorithm: its small
 * packets wait for the server's delayed ack, which is what netdbg's session paid before it turned Nagle off.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import ssh2 from "ssh2";
import { connectSsh } from "../src/io/ssh.js";
import { freeTcpPort } from "../test/helpers/ports.js";

export const name = "ssh";

const SSHD = "/usr/sbin/sshd";
const RUNS = 30;
const INPUT = "x".repeat(300);

function median(xs: number[]): number {
  const v = [...xs].sort((a, b) => a - b);
  return Number(v[Math.floor(v.length / 2)]!.toFixed(2));
}

async function timed(n: number, f: () => Promise<unknown>): Promise<number> {
  const ts: number[] = [];
  await f(); // the first channel's costs (JIT) are not a command's
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

async function startSshd(dir: string, user: string, clientPub: string): Promise<{ port: number; proc: ChildProcess }> {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host")]);
  // sshd reads it as the user
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, "authorized_keys"), clientPub, { mode: 0o644 });
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const port = await freeTcpPort();
  const cfg = [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${join(dir, "host")}`,
    `PidFile ${join(dir, "sshd.pid")}`,
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    "StrictModes no",
    "PermitRootLogin no",
    `AllowUsers ${user}`,
  ];
  writeFileSync(join(dir, "sshd_config"), `${cfg.join("\n")}\n`);
  const proc = spawn(SSHD, ["-D", "-f", join(dir, "sshd_config"), "-E", join(dir, "sshd.log")], { stdio: "ignore" });
  for (let i = 0; i < 200; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const c = connect({ host: "127.0.0.1", port }, () => {
        c.destroy();
        resolve(true);
      });
      c.once("error", () => resolve(false));
    });
    if (up) return { port, proc };
    await delay(25);
  }
  proc.kill("SIGKILL");
  throw new Error(`sshd did not start: ${readFileSync(join(dir, "sshd.log"), "utf8").slice(-500)}`);
}

/** One command on a bare ssh2 client: its exit code once the channel closes. */
function bareExec(c: ssh2.Client, command: string, input?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    c.exec(command, (err, ch) => {
      if (err) return reject(err);
      ch.on("close", () => resolve());
      ch.resume();
      ch.stderr.resume();
      if (input !== undefined) ch.end(input);
      else ch.end();
    });
  });
}

export async function run(): Promise<Record<string, unknown>> {
  if (!existsSync(SSHD)) return { skipped: `no OpenSSH server at ${SSHD}` };
  if (userInfo().uid !== 0) return { skipped: "needs root (a throwaway user and sshd on loopback)" };
  const dir = mkdtempSync(join(tmpdir(), "netdbg-bench-ssh-"));
  const user = `ndbench${process.pid % 100000}`;
  execFileSync("useradd", ["--no-create-home", "--home-dir", dir, "--shell", "/bin/sh", user]);
  execFileSync("usermod", ["-p", "*", user]); // key-only, not locked: sshd without PAM refuses a locked account
  let sshd: ChildProcess | undefined;
  try {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "client")]);
    const started = await startSshd(dir, user, readFileSync(join(dir, "client.pub"), "utf8"));
    sshd = started.proc;
    const hostKey = readFileSync(join(dir, "host.pub"), "utf8").trim().split(" ").slice(0, 2).join(" ");
    writeFileSync(join(dir, "known_hosts"), `[127.0.0.1]:${started.port} ${hostKey}\n`);
    const s = await connectSsh({
      target: { name: "bench", address: "127.0.0.1", ssh: { user, port: started.port, identityFile: join(dir, "client") } },
      knownHostsPath: join(dir, "known_hosts"),
      sshConfigPath: null,
      agentSocket: null,
    });
    const netdbg = {
      execMs: await timed(RUNS, () => s.exec("true")),
      execInputMs: await timed(RUNS, () => s.exec("cat >/dev/null", { input: INPUT })),
    };
    await s.close();
    const bare = new ssh2.Client();
    await new Promise<void>((resolve, reject) => {
      bare.once("ready", () => resolve());
      bare.once("error", reject);
      bare.connect({
        host: "127.0.0.1",
        port: started.port,
        username: user,
        privateKey: readFileSync(join(dir, "client")),
      });
    });
    const nagle = {
      execMs: await timed(RUNS, () => bareExec(bare, "true")),
      execInputMs: await timed(RUNS, () => bareExec(bare, "cat >/dev/null", INPUT)),
    };
    await new Promise<void>((resolve) => {
      bare.once("close", () => resolve());
      bare.end();
    });
    return {
      server: spawnSync(SSHD, ["-V"], { encoding: "utf8" }).stderr.trim().split("\n")[0],
      runs: RUNS,
      ...netdbg,
      bareSsh2WithNagle: nagle,
    };
  } finally {
    if (sshd && sshd.exitCode === null) {
      const exited = new Promise((resolve) => sshd!.once("exit", resolve));
      sshd.kill("SIGTERM");
      await exited;
    }
    spawnSync("pkill", ["-KILL", "-u", user]); // a session sshd had not ended yet
    spawnSync("userdel", ["--force", user]);
    rmSync(dir, { recursive: true, force: true });
  }
}
