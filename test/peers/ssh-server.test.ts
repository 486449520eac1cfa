/**
 * The SSH adapter against the in-process ssh2 Server fake (src/peers/ssh-server.ts): the same contract as
 * against real sshd, so the fake is a faithful peer for target models.
 */
import { readFileSync, writeFileSync, rmSync } from "node:fs";
import { codeOf } from "../helpers/errors.js";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { psEncodedCommand } from "../../src/core/quote.js";
import { connectSsh } from "../../src/io/ssh.js";
import { watchNoDelay } from "../helpers/no-delay.js";
import { tempDir } from "../helpers/sshd.js";
import { type SshPeer, startSshPeer } from "../../src/peers/ssh-server.js";

let srv: SshPeer;
let dir: string;

beforeAll(async () => {
  dir = tempDir("fake");
  srv = await startSshPeer({
    users: ["fake", "admin"],
    readOnly: (p) => p.startsWith("C:/Windows/"),
    exec: async ({ command, stdin, signal }) => {
      if (command === "hang") {
        await new Promise<void>((r) => signal.addEventListener("abort", () => r()));
        return {};
      }
      const ps = /^powershell\.exe -NoProfile -NonInteractive -EncodedCommand ([A-Za-z0-9+/=]+)$/.exec(command);
      if (ps) return { stdout: `${JSON.stringify({ script: Buffer.from(ps[1]!, "base64").toString("utf16le") })}\r\n` };
      if (command === "rev") return { stdout: [...stdin].reverse().join(""), stderr: "reversed\n", code: 3 };
      return { stderr: "not found\n", code: 127 };
    },
  });
});

afterAll(async () => {
  await srv?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("adapter against the in-process fake", () => {
  it("exec: stdout, stderr, exit code, stdin; records the command", async () => {
    const s = await connectSsh(srv.connectOptions(dir));
    try {
      expect(await s.exec("rev", { input: "abc" })).toEqual({ stdout: "cba", stderr: "reversed\n", exitCode: 3 });
      const script = "$ProgressPreference='SilentlyContinue'; Get-Item 'C:\\x' | ConvertTo-Json";
      const r = await s.exec(`powershell.exe -NoProfile -NonInteractive -EncodedCommand ${psEncodedCommand(script)}`);
      expect(JSON.parse(r.stdout)).toEqual({ script });
      expect(srv.commands.at(-1)?.user).toBe("fake");
      expect((await s.exec("nope")).exitCode).toBe(127);
    } finally {
      await s.close();
    }
  });

  it("a POSIX-shell (linux) session's pid report is invisible to handlers and callers", async () => {
    const s = await connectSsh({ ...srv.connectOptions(dir), posixShell: true });
    try {
      expect(await s.exec("rev", { input: "ab" })).toEqual({ stdout: "ba", stderr: "reversed\n", exitCode: 3 });
      expect(srv.commands.at(-1)?.command).toBe("rev");
    } finally {
      await s.close();
    }
  });

  it("both ends of the connection send without Nagle's algorithm", async () => {
    // With Nagle, small packets written together (a command's input and EOF; a reply's exit status, EOF and close)
    // wait for the other side's delayed ack: some 40 ms a command here, 50-90 ms against OpenSSH's sshd.
    const noDelay = watchNoDelay();
    try {
      const s = await connectSsh(srv.connectOptions(dir));
      try {
        expect((await s.exec("rev", { input: "ab" })).stdout).toBe("ba");
        // the client's socket (to the server's port) and the server's (from it)
        expect(noDelay.sockets().some((sock) => sock.remotePort === srv.port)).toBe(true);
        expect(noDelay.sockets().some((sock) => sock.localPort === srv.port)).toBe(true);
      } finally {
        await s.close();
      }
    } finally {
      noDelay.restore();
    }
  });

  it("env and cwd are refused on a non-POSIX (Windows) session rather than sent as sh syntax", async () => {
    const s = await connectSsh(srv.connectOptions(dir));
    try {
      expect(() => s.exec("rev", { cwd: "C:/" })).toThrow(TypeError);
      expect(srv.commands.at(-1)?.command).not.toContain("cd ");
    } finally {
      await s.close();
    }
  });

  it("exec timeout: coded error, handler aborted, session still usable", async () => {
    const s = await connectSsh(srv.connectOptions(dir));
    try {
      const e = await codeOf(s.exec("hang", { timeoutMs: 200, step: "hang forever" }));
      expect(e.code).toBe("NETDBG-E807");
      expect(e.message).toContain("hang forever");
      await vi.waitFor(() => expect(srv.commands.at(-1)?.signal.aborted).toBe(true));
      expect((await s.exec("rev", { input: "x" })).stdout).toBe("x");
    } finally {
      await s.close();
    }
  });

  it("SFTP: upload with mode, download, permission denied, missing file", async () => {
    const s = await connectSsh(srv.connectOptions(dir));
    try {
      await s.upload({ content: "hello" }, "C:/Users/fake/x.ps1", 0o600);
      expect(srv.files.get("C:/Users/fake/x.ps1")).toEqual({ data: Buffer.from("hello"), mode: 0o600 });
      expect(Buffer.from(await s.download("C:/Users/fake/x.ps1")).toString()).toBe("hello");
      const big = Buffer.alloc(300_000, 7);
      await s.upload({ content: big }, "/big", 0o755);
      expect(Buffer.from(await s.download("/big")).equals(big)).toBe(true);
      expect(srv.files.get("/big")?.mode).toBe(0o755);
      expect((await codeOf(s.upload({ content: "x" }, "C:/Windows/System32/x"))).message).toContain("permission denied");
      expect((await codeOf(s.download("/nope"))).message).toContain("no such file");
    } finally {
      await s.close();
    }
  });

  it("host key: unknown refused, changed refused, confirmed recorded", async () => {
    const o = srv.connectOptions(dir);
    writeFileSync(o.knownHostsPath!, "");
    expect((await codeOf(connectSsh(o))).code).toBe("NETDBG-E804");
    const s = await connectSsh({ ...o, confirmHostKey: async (p) => p.fingerprint.startsWith("SHA256:") });
    await s.close();
    expect(readFileSync(o.knownHostsPath!, "utf8")).toBe(`${srv.knownHostsLine()}\n`);
    const other = await startSshPeer();
    try {
      const line = other.knownHostsLine().replace(`]:${other.port} `, `]:${srv.port} `);
      expect(line).toContain(`]:${srv.port} `);
      writeFileSync(o.knownHostsPath!, `${line}\n`);
      expect((await codeOf(connectSsh({ ...o, acceptNewHostKey: true }))).code).toBe("NETDBG-E805");
    } finally {
      await other.stop();
    }
  });

  it("the handshake deadline pauses while the host-key question is open", async () => {
    const o = srv.connectOptions(dir);
    writeFileSync(o.knownHostsPath!, "");
    const s = await connectSsh({
      ...o,
      // generous enough for a handshake on a loaded CI machine, shorter than the person's answer below
      readyTimeoutMs: 2500,
      confirmHostKey: () => new Promise((resolve) => setTimeout(() => resolve(true), 3500)), // a person reading it
    });
    expect((await s.exec("rev", { input: "ok" })).stdout).toBe("ko");
    await s.close();
  });

  it("a key that cannot be recorded in known_hosts is refused with E820", async () => {
    const o = srv.connectOptions(dir);
    writeFileSync(join(dir, "a-file"), "");
    const e = await codeOf(connectSsh({ ...o, knownHostsPath: join(dir, "a-file", "known_hosts"), acceptNewHostKey: true }));
    expect(e.code).toBe("NETDBG-E820");
    expect(e.message).toContain(join(dir, "a-file", "known_hosts"));
  });

  it("auth: unknown user and unknown key are E800", async () => {
    const o = srv.connectOptions(dir);
    const e = await codeOf(connectSsh({ ...o, target: { ...o.target, ssh: { ...o.target.ssh, user: "mallory" } } }));
    expect(e.code).toBe("NETDBG-E800");
    expect(e.message).toContain(`mallory@127.0.0.1 port ${srv.port}`);
  });

  it("SFTP refused by the server is E810", async () => {
    const noSftp = await startSshPeer({ noSftp: true });
    try {
      const s = await connectSsh(noSftp.connectOptions(dir));
      try {
        expect((await codeOf(s.upload({ content: "x" }, "/x"))).code).toBe("NETDBG-E810");
      } finally {
        await s.close();
      }
    } finally {
      await noSftp.stop();
    }
  });

  it("a closed session refuses further use with an internal error", async () => {
    const s = await connectSsh(srv.connectOptions(dir));
    await s.close();
    expect(() => s.exec("rev")).toThrow(/after closing/);
  });

  it("connectOptions writes usable files", () => {
    const o = srv.connectOptions(dir, "admin");
    expect(readFileSync(join(dir, `fake-client-${srv.port}`), "utf8")).toContain("OPENSSH PRIVATE KEY");
    expect(o.target.ssh?.user).toBe("admin");
  });
});
