/**
 * The SSH adapter against a REAL OpenSSH sshd on 127.0.0.1 (test/helpers/sshd.ts).
 */
import { execFileSync } from "node:child_process";
import { codeOf } from "../helpers/errors.js";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { shCommand } from "../../src/core/quote.js";
import { connectSsh, type HostKeyPrompt, type SshConnectOptions } from "../../src/io/ssh.js";
import {
  createTestUser,
  makeKeyPair,
  removeTestUser,
  type Sshd,
  sshKeygenFingerprint,
  startSshd,
  tempDir,
  testUserName,
} from "../helpers/sshd.js";

const USER = testUserName("exec");
let sshd: Sshd;
let dir: string;
let key: ReturnType<typeof makeKeyPair>;
let otherKey: ReturnType<typeof makeKeyPair>;
let lockedKey: ReturnType<typeof makeKeyPair>;
const PASSPHRASE = "correct horse battery";

function opts(extra: Partial<SshConnectOptions> = {}): SshConnectOptions {
  const knownHostsPath = join(dir, "known_hosts");
  writeFileSync(knownHostsPath, `[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey}\n`);
  return {
    target: {
      name: "t",
      os: "linux",
      address: "127.0.0.1",
      ssh: { user: USER, port: sshd.port, identityFile: key.privateKeyPath },
    },
    sshConfigPath: null,
    knownHostsPath,
    agentSocket: null,
    homeDir: dir,
    ...extra,
  };
}

beforeAll(async () => {
  dir = tempDir("exec");
  key = makeKeyPair(dir, "id_ed25519");
  otherKey = makeKeyPair(dir, "id_other");
  lockedKey = makeKeyPair(dir, "id_locked", "ed25519", PASSPHRASE);
  createTestUser(USER);
  sshd = await startSshd({ authorizedKeys: { [USER]: [key.publicKey, lockedKey.publicKey] } });
});

afterEach((ctx) => {
  // Diagnosis for an unexpected failure: what sshd itself said.
  if (ctx.task.result?.state === "fail" && sshd) console.error(`sshd log tail:\n${sshd.log().slice(-3000)}`);
});

afterAll(async () => {
  await sshd?.stop();
  removeTestUser(USER);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("exec against real sshd", () => {
  it("returns stdout, stderr and the exit code, and feeds stdin", async () => {
    const s = await connectSsh(opts());
    try {
      const r = await s.exec("echo out; echo err >&2; exit 7");
      expect(r).toEqual({ stdout: "out\n", stderr: "err\n", exitCode: 7 });
      const who = await s.exec("id -un");
      expect(who.stdout.trim()).toBe(USER);
      const cat = await s.exec("tr a-z A-Z", { input: "hello\nworld\n" });
      expect(cat.stdout).toBe("HELLO\nWORLD\n");
      const nasty = 'it\'s $(rm -rf /) `x` ; "q" \\ \n done';
      const echoed = await s.exec(shCommand(["printf", "%s", nasty]));
      expect(echoed.stdout).toBe(nasty);
      const env = await s.exec('printf %s "$NDVAR"', { env: { NDVAR: "a b'c" }, cwd: "/tmp" });
      expect(env.stdout).toBe("a b'c");
      expect(s.description).toBe(`${USER}@127.0.0.1 port ${sshd.port}`);
    } finally {
      await s.close();
    }
  });

  it("stops a command at its timeout with a coded error naming step, command and stderr tail", async () => {
    const s = await connectSsh(opts());
    try {
      const e = await codeOf(s.exec("echo starting >&2; sleep 30", { timeoutMs: 500, step: "wait for godot" }));
      expect(e.code).toBe("NETDBG-E807");
      expect(e.message).toContain("wait for godot");
      expect(e.message).toContain("sleep 30");
      expect(e.message).toContain("starting");
      // the remote command was killed, not left running
      await vi.waitFor(() => expect(() => execFileSync("pgrep", ["-u", USER, "-x", "sleep"])).toThrow());
      // the session is still usable afterwards
      expect((await s.exec("echo still here")).stdout).toBe("still here\n");
    } finally {
      await s.close();
    }
  });

  it("reports a signal death as 128+n", async () => {
    const s = await connectSsh(opts());
    try {
      const r = await s.exec("kill -TERM $$");
      expect(r.exitCode).toBe(143);
    } finally {
      await s.close();
    }
  });
});

describe("a connection cut mid-command", () => {
  it("is E808 naming step and command, and the session refuses further commands", async () => {
    const s = await connectSsh(opts());
    try {
      const running = s.exec("echo started; sleep 20", { step: "long step" });
      // Cut it for real: kill the user's sshd session process (and the command) on the server.
      await vi.waitFor(() => execFileSync("pgrep", ["-u", USER, "-x", "sleep"])); // the command is running
      execFileSync("pkill", ["-KILL", "-u", USER]);
      const e = await codeOf(running);
      expect(e.code).toBe("NETDBG-E808");
      expect(e.message).toContain("long step");
      expect(e.message).toContain("sleep 20");
      expect((await codeOf(s.exec("true"))).code).toBe("NETDBG-E808");
    } finally {
      await s.close();
    }
  });
});

describe("SFTP against real sshd", () => {
  it("uploads with a mode, runs the file, downloads it back", async () => {
    const s = await connectSsh(opts());
    const remote = `/tmp/nd-ssh-upload-${process.pid}.sh`;
    try {
      await s.upload({ content: "#!/bin/sh\necho ran $1\n" }, remote, 0o700);
      const st = await s.exec(shCommand(["stat", "-c", "%a %U", remote]));
      expect(st.stdout.trim()).toBe(`700 ${USER}`);
      expect((await s.exec(shCommand([remote, "ok"]))).stdout).toBe("ran ok\n");
      const bin = new Uint8Array([0, 1, 2, 255, 10, 13]);
      await s.upload({ content: bin }, `${remote}.bin`, 0o600);
      expect(Buffer.from(await s.download(`${remote}.bin`))).toEqual(Buffer.from(bin));
      const local = join(dir, "local.txt");
      writeFileSync(local, "from a file");
      await s.upload({ path: local }, `${remote}.txt`);
      expect(Buffer.from(await s.download(`${remote}.txt`)).toString()).toBe("from a file");
      expect((await s.exec(shCommand(["stat", "-c", "%a", `${remote}.txt`]))).stdout.trim()).toBe("644");
      const missing = await codeOf(s.download("/nonexistent/nd-ssh"));
      expect(missing.code).toBe("NETDBG-E809");
      expect(missing.message).toContain("no such file");
      const denied = await codeOf(s.upload({ content: "x" }, "/etc/nd-ssh-denied"));
      expect(denied.code).toBe("NETDBG-E809");
      expect(denied.message).toContain("permission denied");
    } finally {
      await s.exec(shCommand(["rm", "-f", remote, `${remote}.bin`, `${remote}.txt`])).catch(() => {});
      await s.close();
    }
  });
});

describe("host keys against real sshd", () => {
  it("an unknown key is refused without confirmation, showing the ssh-keygen -lf fingerprint", async () => {
    const o = opts();
    writeFileSync(o.knownHostsPath!, "");
    const e = await codeOf(connectSsh(o));
    expect(e.code).toBe("NETDBG-E804");
    expect(e.message).toContain(sshKeygenFingerprint(sshd.hostPublicKeyFile));
    expect(readFileSync(o.knownHostsPath!, "utf8")).toBe("");
  });

  it("an unknown key is accepted on confirmation, recorded, then known", async () => {
    const o = opts();
    writeFileSync(o.knownHostsPath!, "# comment\n");
    const prompts: HostKeyPrompt[] = [];
    const s = await connectSsh({
      ...o,
      confirmHostKey: async (p) => {
        prompts.push(p);
        return true;
      },
    });
    await s.close();
    expect(prompts).toHaveLength(1);
    expect(prompts[0]!.fingerprint).toBe(sshKeygenFingerprint(sshd.hostPublicKeyFile));
    expect(prompts[0]!.name).toBe(`[127.0.0.1]:${sshd.port}`);
    expect(readFileSync(o.knownHostsPath!, "utf8")).toBe(`# comment\n[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey}\n`);
    // second time: no question asked
    const s2 = await connectSsh({
      ...o,
      confirmHostKey: async () => {
        throw new Error("must not ask");
      },
    });
    await s2.close();
  });

  it("a declined key is refused; acceptNewHostKey records it without asking", async () => {
    const o = opts();
    writeFileSync(o.knownHostsPath!, "");
    expect((await codeOf(connectSsh({ ...o, confirmHostKey: async () => false }))).code).toBe("NETDBG-E804");
    const s = await connectSsh({ ...o, acceptNewHostKey: true });
    await s.close();
    expect(readFileSync(o.knownHostsPath!, "utf8")).toContain(sshd.hostPublicKey);
  });

  it("check mode (recordHostKey false) trusts a new key for the run but never writes known_hosts", async () => {
    const o = opts();
    writeFileSync(o.knownHostsPath!, "# before\n");
    const info: string[] = [];
    const logger = { debug() {}, info: (m: string) => info.push(m), warn() {}, error() {} };
    const s = await connectSsh({ ...o, acceptNewHostKey: true, recordHostKey: false, logger });
    expect((await s.exec("echo ok")).stdout).toBe("ok\n");
    await s.close();
    expect(readFileSync(o.knownHostsPath!, "utf8")).toBe("# before\n");
    expect(info.join("\n")).toMatch(/for this run only: check mode does not write/);
  });

  it("a new key type while another type is known gets OpenSSH's warning, in the log and the question", async () => {
    const o = opts();
    const rsa = makeKeyPair(dir, `rsahost-${Date.now()}`, "rsa");
    expect(sshd.hostPublicKey.startsWith("ssh-ed25519 ")).toBe(true);
    writeFileSync(o.knownHostsPath!, `[127.0.0.1]:${sshd.port} ${rsa.publicKey}\n`);
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} };
    const prompts: HostKeyPrompt[] = [];
    const e = await codeOf(
      connectSsh({
        ...o,
        logger,
        confirmHostKey: async (p) => {
          prompts.push(p);
          return false;
        },
      }),
    );
    expect(e.code).toBe("NETDBG-E804");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/keys of different type are already known for this host \(ssh-rsa in .*known_hosts\)/);
    expect(warnings[0]).toContain(sshKeygenFingerprint(sshd.hostPublicKeyFile));
    expect(prompts[0]!.warning).toBe(warnings[0]);
  });

  it("a hashed known_hosts entry (ssh-keygen -H) is recognised", async () => {
    const o = opts();
    const { execFileSync } = await import("node:child_process");
    execFileSync("ssh-keygen", ["-H", "-f", o.knownHostsPath!], { stdio: "ignore" });
    expect(readFileSync(o.knownHostsPath!, "utf8")).toMatch(/^\|1\|/);
    const s = await connectSsh({ ...o, confirmHostKey: async () => false });
    await s.close();
  });

  it("a changed key is refused with the ssh-keygen -R fix", async () => {
    const o = opts();
    const fake = makeKeyPair(dir, `fakehost-${Date.now()}`);
    writeFileSync(o.knownHostsPath!, `# x\n[127.0.0.1]:${sshd.port} ${fake.publicKey}\n`);
    const e = await codeOf(connectSsh({ ...o, acceptNewHostKey: true }));
    expect(e.code).toBe("NETDBG-E805");
    expect(e.message).toContain("line 2");
    expect(e.message).toContain(sshKeygenFingerprint(sshd.hostPublicKeyFile));
    expect(e.fix).toContain(`ssh-keygen -R '[127.0.0.1]:${sshd.port}' -f ${o.knownHostsPath}`);
  });
});

describe("connection failures against real sshd", () => {
  it("a wrong key is an authentication error naming user, host and port", async () => {
    const o = opts();
    const e = await codeOf(
      connectSsh({ ...o, target: { ...o.target, ssh: { ...o.target.ssh, identityFile: otherKey.privateKeyPath } } }),
    );
    expect(e.code).toBe("NETDBG-E800");
    expect(e.message).toContain(`${USER}@127.0.0.1 port ${sshd.port}`);
    expect(e.message).toContain(otherKey.privateKeyPath);
  });

  it("an identity file with a passphrase is asked for (three tries, as ssh does), then logs in", async () => {
    const o = opts();
    const asked: { file: string; attempt: number }[] = [];
    const answers = ["wrong", PASSPHRASE];
    const s = await connectSsh({
      ...o,
      target: { ...o.target, ssh: { ...o.target.ssh, identityFile: lockedKey.privateKeyPath } },
      askPassphrase: async (file, attempt) => {
        asked.push({ file, attempt });
        return answers.shift();
      },
    });
    try {
      expect((await s.exec("id -un")).stdout.trim()).toBe(USER);
    } finally {
      await s.close();
    }
    expect(asked).toEqual([
      { file: lockedKey.privateKeyPath, attempt: 1 },
      { file: lockedKey.privateKeyPath, attempt: 2 },
    ]);
  });

  it("without a way to ask, a key with a passphrase is skipped with the ssh-add hint (E800)", async () => {
    const o = opts();
    const e = await codeOf(
      connectSsh({ ...o, target: { ...o.target, ssh: { ...o.target.ssh, identityFile: lockedKey.privateKeyPath } } }),
    );
    expect(e.code).toBe("NETDBG-E800");
    expect(e.message).toContain(`${lockedKey.privateKeyPath} (has a passphrase`);
    expect(e.message).toContain("ssh-add");
  });

  it("a passphrase prompt that gets nothing (Enter) skips the key instead of asking forever", async () => {
    const o = opts();
    let asked = 0;
    const e = await codeOf(
      connectSsh({
        ...o,
        target: { ...o.target, ssh: { ...o.target.ssh, identityFile: lockedKey.privateKeyPath } },
        askPassphrase: async () => {
          asked++;
          return "";
        },
      }),
    );
    expect(e.code).toBe("NETDBG-E800");
    expect(asked).toBe(1);
  });

  it("a missing explicit identity file is named", async () => {
    const o = opts();
    const e = await codeOf(
      connectSsh({ ...o, target: { ...o.target, ssh: { ...o.target.ssh, identityFile: join(dir, "nope") } } }),
    );
    expect(e.code).toBe("NETDBG-E816");
    expect(e.message).toContain(join(dir, "nope"));
  });

  it("a closed port is a socket error with the start-sshd fix", async () => {
    const { createServer } = await import("node:net");
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    const port = (srv.address() as { port: number }).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const o = opts();
    const e = await codeOf(connectSsh({ ...o, target: { ...o.target, ssh: { ...o.target.ssh, port } } }));
    expect(e.code).toBe("NETDBG-E801");
    expect(e.message).toContain(`${USER}@127.0.0.1 port ${port}`);
    expect(e.fix).toContain("Nothing listens");
  });

  it("a silent peer is a handshake timeout", async () => {
    const { createServer } = await import("node:net");
    const sockets: import("node:net").Socket[] = [];
    const srv = createServer((c) => sockets.push(c));
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    const port = (srv.address() as { port: number }).port;
    const o = opts();
    try {
      const e = await codeOf(connectSsh({ ...o, readyTimeoutMs: 300, target: { ...o.target, ssh: { ...o.target.ssh, port } } }));
      expect(e.code).toBe("NETDBG-E803");
    } finally {
      for (const c of sockets) c.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});

describe("real sshd with a ForceCommand (how target models sit behind OpenSSH)", () => {
  it("runs the forced command with the original command line in SSH_ORIGINAL_COMMAND, stdin included", async () => {
    const forced = await startSshd({
      authorizedKeys: { [USER]: [key.publicKey] },
      forceCommand: 'printf "forced:%s|" "$SSH_ORIGINAL_COMMAND"; cat; exit 5',
    });
    try {
      const s = await connectSsh({
        ...opts(),
        knownHostsPath: join(dir, "kh-forced"),
        acceptNewHostKey: true,
        target: { name: "t", address: "127.0.0.1", ssh: { user: USER, port: forced.port, identityFile: key.privateKeyPath } },
      });
      try {
        expect(await s.exec("powershell.exe -NoProfile -EncodedCommand AAAA", { input: "in" })).toEqual({
          stdout: "forced:powershell.exe -NoProfile -EncodedCommand AAAA|in",
          stderr: "",
          exitCode: 5,
        });
      } finally {
        await s.close();
      }
    } finally {
      await forced.stop();
    }
  });
});

describe("real sshd with MaxSessions 1", () => {
  it("a second concurrent command is refused with E821, the first completes", async () => {
    const limited = await startSshd({ authorizedKeys: { [USER]: [key.publicKey] }, extraConfig: ["MaxSessions 1"] });
    try {
      const s = await connectSsh({
        ...opts(),
        knownHostsPath: join(dir, "kh-limited"),
        acceptNewHostKey: true,
        target: {
          name: "t",
          os: "linux",
          address: "127.0.0.1",
          ssh: { user: USER, port: limited.port, identityFile: key.privateKeyPath },
        },
      });
      try {
        const first = s.exec("sleep 1; echo first");
        const e = await codeOf(s.exec("echo second", { step: "second" }));
        expect(e.code).toBe("NETDBG-E821");
        expect(e.message).toContain("echo second");
        expect((await first).stdout).toBe("first\n");
      } finally {
        await s.close();
      }
    } finally {
      await limited.stop();
    }
  });
});
