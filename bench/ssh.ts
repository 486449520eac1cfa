/**
 * One remote command's round trip over SSH: netdbg's SSH session (src/io/ssh.ts) against a real OpenSSH sshd on
 * loopback (the tests' throwaway sshd and user, test/helpers/sshd.ts), next to a bare ssh2 client with the library's
 * defaults on the same server. A setup, doctor and teardown run dozens of commands, so this time is paid many times
 * over. Median of RUNS commands each: `true`, and `cat` with a few hundred bytes of
 * input (the shape of a sudo password or a `-Command -` script). The bare client keeps Nagle's algorithm: its small
 * packets wait for the server's delayed ack, which is what netdbg's session paid before it turned Nagle off.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import ssh2 from "ssh2";
import { connectSsh } from "../src/io/ssh.js";
import { median } from "./_median.js";
import {
  createTestUser,
  makeKeyPair,
  removeTestUser,
  type Sshd,
  startSshd,
  tempDir,
  testUserName,
} from "../test/helpers/sshd.js";

export const name = "ssh";

const SSHD = "/usr/sbin/sshd";
const RUNS = 30;
const INPUT = "x".repeat(300);

async function timed(n: number, f: () => Promise<unknown>): Promise<number> {
  const ts: number[] = [];
  await f(); // the first channel's costs (JIT) are not a command's
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f();
    ts.push(performance.now() - t0);
  }
  return Number(median(ts).toFixed(2));
}

/** One command on a bare ssh2 client: resolves once its channel closes. */
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
  const dir = tempDir("bench");
  const user = testUserName("bench");
  let sshd: Sshd | undefined;
  try {
    const key = makeKeyPair(dir, "client");
    createTestUser(user); // its shell is /bin/sh: no start-up file of this machine's runs with each command
    sshd = await startSshd({ authorizedKeys: { [user]: [key.publicKey] } });
    const port = sshd.port;
    writeFileSync(join(dir, "known_hosts"), `[127.0.0.1]:${port} ${sshd.hostPublicKey}\n`);
    const s = await connectSsh({
      target: { name: "bench", address: "127.0.0.1", ssh: { user, port, identityFile: key.privateKeyPath } },
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
      bare.connect({ host: "127.0.0.1", port, username: user, privateKey: readFileSync(key.privateKeyPath) });
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
    await sshd?.stop();
    removeTestUser(user);
    rmSync(dir, { recursive: true, force: true });
  }
}
