/**
 * runStep and sudo: unit checks on a recording session, then the real thing — sudo(8) behind a REAL sshd on
 * 127.0.0.1 with test users (ndssh…) and sudoers.d rules created here and removed in afterAll.
 */
import { execFileSync } from "node:child_process";
import { codeOf } from "../helpers/errors.js";
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { CommandResult, Logger, RemoteSession, RunOptions } from "../../src/core/interfaces.js";
import { shCommand, shQuote } from "../../src/core/quote.js";
import { classifySudoFailure, elevate, probeSudo, runStep, stderrTail, sudoGuard, withSudo } from "../../src/core/remote.js";
import { connectSsh, type SshSession } from "../../src/io/ssh.js";
import {
  createTestUser,
  makeKeyPair,
  removeTestUser,
  requireTool,
  type Sshd,
  startSshd,
  tempDir,
  testUserName,
} from "../helpers/sshd.js";

function recording(result: CommandResult): RemoteSession & { calls: { command: string; opts?: RunOptions }[] } {
  const calls: { command: string; opts?: RunOptions }[] = [];
  return {
    description: "kd@box",
    calls,
    async exec(command, opts) {
      calls.push({ command, ...(opts ? { opts } : {}) });
      return result;
    },
    async upload() {},
    async download() {
      return new Uint8Array();
    },
    async close() {},
  };
}

describe("runStep and sudo wrapping (unit)", () => {
  it("runStep names step, host, command and the stderr tail", async () => {
    const s = recording({
      stdout: "",
      stderr: "l1\nl2\nl3\nl4\nl5\nl6\nE: Unable to locate package linux-headers-6.1\n",
      exitCode: 100,
    });
    const e = await codeOf(
      runStep(s, "apt-get install -y linux-headers-6.1", { step: "install headers", fix: "Enable the repo." }),
    );
    expect(e.code).toBe("NETDBG-E806");
    expect(e.message).toBe(
      "Step 'install headers' failed on kd@box: 'apt-get install -y linux-headers-6.1' exited with 100: l3\nl4\nl5\nl6\nE: Unable to locate package linux-headers-6.1",
    );
    expect(e.fix).toBe("Enable the repo.");
    expect(s.calls[0]!.opts).toEqual({ step: "install headers" });
    expect((await runStep(s, "grep x", { step: "s", okExitCodes: [100] })).exitCode).toBe(100);
    expect(stderrTail("x".repeat(2000)).length).toBeLessThan(700);
  });

  it("withSudo: root passes through; password goes on stdin only, before the caller's input", async () => {
    const s = recording({ stdout: "", stderr: "", exitCode: 0 });
    expect(withSudo(s, { mode: "root", user: "root" })).toBe(s);
    const pw = "pa ss'word$(x)";
    const w = withSudo(s, { mode: "password", user: "kd", password: pw });
    await w.exec("cat > /etc/x", { input: "data", env: { A: "1" }, cwd: "/", timeoutMs: 5 });
    expect(s.calls[0]!.command).toBe(`sudo -S -k -p '' -- sh -c ${shQuote(sudoGuard("cd / && env A=1 sh -c 'cat > /etc/x'"))}`);
    expect(s.calls[0]!.command).not.toContain("pa ss");
    expect(s.calls[0]!.opts).toEqual({ timeoutMs: 5, input: `${pw}\ndata` });
    const n = withSudo(s, { mode: "nopasswd", user: "kd" });
    await n.exec("id -u");
    expect(s.calls[1]).toEqual({ command: `sudo -n -- sh -c ${shQuote(sudoGuard("id -u"))}`, opts: {} });
    expect(() => withSudo(s, { mode: "password", user: "kd" })).toThrow(/asks kd for a password/);
    expect(() => withSudo(s, { mode: "missing", user: "kd" })).toThrow(/sudo is not installed/);
  });

  it("classifies sudo's own messages (sudo 1.9, C locale)", () => {
    const code = (t: string) => classifySudoFailure(t, "h", "u")?.code;
    expect(code("Sorry, try again.\nsudo: 1 incorrect password attempt\n")).toBe("NETDBG-E812");
    expect(code("sudo: a password is required\n")).toBe("NETDBG-E811");
    expect(code("u is not in the sudoers file.  This incident will be reported.\n")).toBe("NETDBG-E813");
    expect(code("sudo: sorry, you must have a tty to run sudo\n")).toBe("NETDBG-E815");
    expect(code("sh: 1: sudo: not found\n")).toBe("NETDBG-E814");
    expect(code("cp: cannot stat 'x': No such file or directory\n")).toBeUndefined();
  });
});

describe("sudo against real sshd + real sudo", () => {
  const PW_USER = testUserName("sudo");
  const NOPW_USER = testUserName("nopw");
  const PLAIN_USER = testUserName("plain");
  const PASSWORD = "Corr3ct horse 'battery' $staple";
  let sshd: Sshd;
  let dir: string;
  let key: ReturnType<typeof makeKeyPair>;
  const logged: string[] = [];
  const logger: Logger = {
    debug: (m) => logged.push(m),
    info: (m) => logged.push(m),
    warn: (m) => logged.push(m),
    error: (m) => logged.push(m),
  };

  beforeAll(async () => {
    requireTool("/usr/bin/sudo", "sudo");
    dir = tempDir("sudo");
    key = makeKeyPair(dir, "id_sudo");
    createTestUser(PW_USER, { password: PASSWORD, sudo: "password" });
    createTestUser(NOPW_USER, { sudo: "nopasswd" });
    createTestUser(PLAIN_USER, { password: PASSWORD });
    sshd = await startSshd({
      authorizedKeys: { [PW_USER]: [key.publicKey], [NOPW_USER]: [key.publicKey], [PLAIN_USER]: [key.publicKey] },
    });
  });

  afterAll(async () => {
    await sshd?.stop();
    for (const u of [PW_USER, NOPW_USER, PLAIN_USER]) removeTestUser(u);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const connect = (user: string): Promise<SshSession> =>
    connectSsh({
      target: { name: "t", os: "linux", address: "127.0.0.1", ssh: { user, port: sshd.port, identityFile: key.privateKeyPath } },
      sshConfigPath: null,
      knownHostsPath: `${dir}/known_hosts`,
      acceptNewHostKey: true,
      agentSocket: null,
      homeDir: dir,
      logger,
    });

  it("probes the sudo mode of each user", async () => {
    for (const [user, mode] of [
      [PW_USER, "password"],
      [NOPW_USER, "nopasswd"],
      [PLAIN_USER, "password"],
    ] as const) {
      const s = await connect(user);
      try {
        expect(await probeSudo(s)).toEqual({ mode, user });
      } finally {
        await s.close();
      }
    }
  });

  it("asks the password once, runs as root, passes stdin after it, and never leaks it", async () => {
    const s = await connect(PW_USER);
    let asked = 0;
    try {
      const { session: root, mode } = await elevate(s, {
        askPassword: async ({ user }) => {
          asked++;
          expect(user).toBe(PW_USER);
          return PASSWORD;
        },
      });
      expect(mode).toBe("password");
      expect((await root.exec("id -u")).stdout.trim()).toBe("0");
      const cat = await root.exec("cat", { input: "line one\nline two\n" });
      expect(cat.stdout).toBe("line one\nline two\n");
      expect(cat.stderr).toBe("");
      const env = await root.exec('printf "%s %s" "$(id -un)" "$ND_X"', { env: { ND_X: "y z" }, cwd: "/" });
      expect(env.stdout).toBe("root y z");
      // root-owned upload with mode through a temp file, then download through base64
      const path = `/etc/nd-ssh-sudo-${process.pid}`;
      await root.upload({ content: new Uint8Array([0, 255, 1, 10]) }, path, 0o640);
      expect((await root.exec(shCommand(["stat", "-c", "%a %U", path]))).stdout.trim()).toBe("640 root");
      expect([...(await root.download(path))]).toEqual([0, 255, 1, 10]);
      expect((await s.exec("ls /tmp | grep -c netdbg-upload || true")).stdout.trim()).toBe("0");
      await root.exec(shCommand(["rm", "-f", path]));
      // a timed-out command under sudo is stopped on the target, not left running as root
      const tag = String(900 + (process.pid % 97));
      const t = await codeOf(runStep(root, `sleep ${tag}`, { timeoutMs: 500, step: "sudo sleep" }));
      expect(t.code).toBe("NETDBG-E807");
      await vi.waitFor(() => expect(() => execFileSync("pgrep", ["-f", `^sleep ${tag}$`])).toThrow());
      // a failing command still reports its own exit code, not a sudo error
      expect((await root.exec("exit 4")).exitCode).toBe(4);
      const failed = await codeOf(runStep(root, "false", { step: "fail on purpose" }));
      expect(failed.message).not.toContain(PASSWORD);
    } finally {
      await s.close();
    }
    expect(asked).toBe(1);
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.join("\n")).not.toContain(PASSWORD);
  });

  it("a wrong password is E812; no password available is E811", async () => {
    const s = await connect(PW_USER);
    try {
      const e = await codeOf(elevate(s, { password: "wrong" }));
      expect(e.code).toBe("NETDBG-E812");
      expect(e.format()).not.toContain("wrong");
      expect((await codeOf(elevate(s))).code).toBe("NETDBG-E811");
    } finally {
      await s.close();
    }
  });

  it("a user without a sudo rule is E813 (with the right password)", async () => {
    const s = await connect(PLAIN_USER);
    try {
      const e = await codeOf(elevate(s, { password: PASSWORD }));
      expect(e.code).toBe("NETDBG-E813");
      expect(e.message).toContain(PLAIN_USER);
    } finally {
      await s.close();
    }
  });

  it("passwordless sudo never asks", async () => {
    const s = await connect(NOPW_USER);
    try {
      const { session: root, mode } = await elevate(s, {
        askPassword: async () => {
          throw new Error("must not ask");
        },
      });
      expect(mode).toBe("nopasswd");
      expect((await root.exec("id -u")).stdout.trim()).toBe("0");
      expect((await root.exec("cat", { input: "abc" })).stdout).toBe("abc");
    } finally {
      await s.close();
    }
  });
});
