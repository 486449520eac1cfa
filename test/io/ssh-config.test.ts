/**
 * ssh_config resolution (unit) and, against REAL sshd on 127.0.0.1: alias resolution from a temp ssh_config,
 * ProxyJump through a second real sshd and through the in-process fake, ssh-agent authentication.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { codeOf } from "../helpers/errors.js";
import { watchNoDelay } from "../helpers/no-delay.js";
import { existsSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { connectSsh } from "../../src/io/ssh.js";
import { parseJumpSpec, resolveSshTarget } from "../../src/io/ssh-config.js";
import { type SshPeer, startSshPeer } from "../../src/peers/ssh-server.js";
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

describe("resolveSshTarget (unit)", () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir("cfgunit");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("parses ProxyJump specs", () => {
    expect(parseJumpSpec("bastion")).toEqual({ host: "bastion" });
    expect(parseJumpSpec("me@bastion:2200")).toEqual({ user: "me", host: "bastion", port: 2200 });
    expect(parseJumpSpec("ssh://me@[::1]:2222")).toEqual({ user: "me", host: "::1", port: 2222 });
    expect(parseJumpSpec("[fe80::1]")).toEqual({ host: "fe80::1" });
    expect(parseJumpSpec("a:b:c")).toBeUndefined();
    expect(parseJumpSpec("h:99999")).toBeUndefined();
    expect(parseJumpSpec("@h")).toBeUndefined();
  });

  it("applies inventory over ssh_config over defaults, expands ~ and tokens, first match wins", async () => {
    const cfg = join(dir, "config");
    writeFileSync(
      cfg,
      [
        "host lab",
        "  hostname %h.example.test",
        "  PORT 2222",
        "  IdentityFile ~/.ssh/lab_key",
        "  IdentityFile %d/keys/%r@%h",
        "  HostKeyAlias lab-key",
        "  ProxyJump jumper@bastion:2200,second",
        "Host bastion",
        "  User wrong-user-ignored-because-jump-spec-says-jumper",
        "  IdentityFile ~/.ssh/bastion",
        "Host second",
        "  HostName 127.0.0.7",
        "Host *",
        "  User kd",
        "  Port 2299",
        "  IdentitiesOnly yes",
        "",
      ].join("\n"),
    );
    const r = await resolveSshTarget(
      { name: "t", address: "10.0.0.1", ssh: { host: "lab" } },
      { sshConfigPath: cfg, homeDir: "/home/me", localUser: "me" },
    );
    expect(r).toMatchObject({
      alias: "lab",
      hostName: "lab.example.test",
      port: 2222,
      user: "kd",
      identityFiles: ["/home/me/.ssh/lab_key", "/home/me/keys/kd@lab.example.test"],
      identitiesOnly: true,
      hostKeyName: "lab-key",
      configFile: cfg,
    });
    expect(r.jumps.map((j) => [j.user, j.hostName, j.port, j.identityFiles[0]])).toEqual([
      ["jumper", "bastion", 2200, "/home/me/.ssh/bastion"],
      ["kd", "127.0.0.7", 2299, "/home/me/.ssh/id_ed25519"],
    ]);
    const inv = await resolveSshTarget(
      { name: "t", address: "10.0.0.1", ssh: { host: "lab", user: "root", port: 22, identityFile: "/k" } },
      { sshConfigPath: cfg, homeDir: "/home/me", localUser: "me" },
    );
    expect([inv.user, inv.port, inv.identityFiles[0]]).toEqual(["root", 22, "/k"]);
    const plain = await resolveSshTarget(
      { name: "t", address: "10.0.0.1" },
      { sshConfigPath: null, homeDir: "/h", localUser: "me" },
    );
    expect(plain).toMatchObject({ hostName: "10.0.0.1", port: 22, user: "me", jumps: [], identitiesOnly: false });
    expect(plain.identityFiles).toEqual(["/h/.ssh/id_ed25519", "/h/.ssh/id_ecdsa", "/h/.ssh/id_rsa"]);
  });

  it("refuses ProxyCommand and bad values with E817 naming the file", async () => {
    const cfg = join(dir, "bad");
    writeFileSync(cfg, "Host a\n  ProxyCommand nc %h %p\nHost b\n  Port http\nHost c\n  ProxyJump a:b:c\n");
    for (const host of ["a", "b", "c"]) {
      const e = await codeOf(resolveSshTarget({ name: "t", address: "x", ssh: { host } }, { sshConfigPath: cfg }));
      expect(e.code).toBe("NETDBG-E817");
      expect(e.message).toContain(cfg);
    }
  });
});

describe("against real sshd: alias, ProxyJump, agent", () => {
  const JUMP = testUserName("jump");
  const TGT = testUserName("tgt");
  let dir: string;
  let home: string;
  let jump: Sshd;
  let target: Sshd;
  let fake: SshPeer;
  let jumpKey: ReturnType<typeof makeKeyPair>;
  let tgtKey: ReturnType<typeof makeKeyPair>;
  let lockedKey: ReturnType<typeof makeKeyPair>;
  let knownHosts: string;

  beforeAll(async () => {
    dir = tempDir("cfg");
    home = join(dir, "home");
    mkdirSync(join(home, "keys"), { recursive: true });
    jumpKey = makeKeyPair(join(home, "keys"), "id_jump");
    tgtKey = makeKeyPair(join(home, "keys"), "id_tgt");
    lockedKey = makeKeyPair(join(home, "keys"), "id_locked", "ed25519", "s3cret-pass");
    createTestUser(JUMP);
    createTestUser(TGT);
    jump = await startSshd({ authorizedKeys: { [JUMP]: [jumpKey.publicKey] }, extraConfig: ["LogLevel DEBUG1"] });
    target = await startSshd({ authorizedKeys: { [TGT]: [tgtKey.publicKey, lockedKey.publicKey] } });
    fake = await startSshPeer({ users: ["hop"] });
    writeFileSync(join(home, "keys", "id_fake"), fake.clientKey.private, { mode: 0o600 });
    knownHosts = join(dir, "known_hosts");
    writeFileSync(
      knownHosts,
      `[127.0.0.1]:${jump.port} ${jump.hostPublicKey}\n[127.0.0.1]:${target.port} ${target.hostPublicKey}\n${fake.knownHostsLine()}\n`,
    );
    writeFileSync(
      join(dir, "ssh_config"),
      [
        "Host ndlab",
        "  HostName 127.0.0.1",
        `  Port ${target.port}`,
        `  User ${TGT}`,
        "  IdentityFile ~/keys/id_tgt",
        "Host ndlab-jumped",
        "  HostName 127.0.0.1",
        `  Port ${target.port}`,
        `  User ${TGT}`,
        "  IdentityFile ~/keys/id_tgt",
        "  ProxyJump ndjump",
        "Host ndlab-fakejump",
        "  HostName 127.0.0.1",
        `  Port ${target.port}`,
        `  User ${TGT}`,
        "  IdentityFile ~/keys/id_tgt",
        "  ProxyJump ndfake",
        "Host ndjump",
        "  HostName 127.0.0.1",
        `  Port ${jump.port}`,
        `  User ${JUMP}`,
        "  IdentityFile %d/keys/id_jump",
        "Host ndfake",
        "  HostName 127.0.0.1",
        `  Port ${fake.port}`,
        "  User hop",
        "  IdentityFile ~/keys/id_fake",
        "Host ndlab-twohops",
        "  HostName 127.0.0.1",
        `  Port ${target.port}`,
        `  User ${TGT}`,
        "  IdentityFile ~/keys/id_tgt",
        "  ProxyJump ndfake,ndjump",
        "Host ndlab-default-key",
        "  HostName 127.0.0.1",
        `  Port ${target.port}`,
        `  User ${TGT}`,
        "Host ndlab-agent",
        "  HostName 127.0.0.1",
        `  Port ${target.port}`,
        `  User ${TGT}`,
        "",
      ].join("\n"),
    );
  });

  afterAll(async () => {
    await fake?.stop();
    await jump?.stop();
    await target?.stop();
    removeTestUser(JUMP);
    removeTestUser(TGT);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const base = (alias: string) => ({
    target: { name: "lab", address: "127.0.0.1", ssh: { host: alias } },
    sshConfigPath: join(dir, "ssh_config"),
    knownHostsPath: knownHosts,
    homeDir: home,
    agentSocket: null,
  });

  it("resolves a Host alias (HostName, Port, User, IdentityFile with ~)", async () => {
    const s = await connectSsh(base("ndlab"));
    try {
      expect((await s.exec("id -un")).stdout.trim()).toBe(TGT);
      expect(s.description).toBe(`${TGT}@127.0.0.1 port ${target.port}`);
    } finally {
      await s.close();
    }
  });

  it("goes through a ProxyJump hop (a second real sshd) and its log shows the forwarded connection", async () => {
    const s = await connectSsh(base("ndlab-jumped"));
    try {
      expect((await s.exec("id -un")).stdout.trim()).toBe(TGT);
      await s.upload({ content: "via jump" }, `/tmp/nd-ssh-jump-${process.pid}`);
      expect(Buffer.from(await s.download(`/tmp/nd-ssh-jump-${process.pid}`)).toString()).toBe("via jump");
      await s.exec(`rm -f /tmp/nd-ssh-jump-${process.pid}`);
    } finally {
      await s.close();
    }
    await vi.waitFor(() => expect(jump.log()).toMatch(new RegExp(`target 127\\.0\\.0\\.1 port ${target.port}`)));
  });

  it("goes through the in-process fake as a ProxyJump hop, its forward without Nagle's algorithm", async () => {
    const before = fake.forwards.length;
    const noDelay = watchNoDelay();
    const s = await connectSsh(base("ndlab-fakejump"));
    try {
      expect((await s.exec("id -un")).stdout.trim()).toBe(TGT);
      // the fake's connection to the target carries the inner SSH connection: its small packets pass at once
      expect(noDelay.sockets().some((sock) => sock.remotePort === target.port)).toBe(true);
    } finally {
      noDelay.restore();
      await s.close();
    }
    expect(fake.forwards.slice(before)).toEqual([{ host: "127.0.0.1", port: target.port }]);
  });

  it("chains two ProxyJump hops: the fake, then the real jump sshd, then the target", async () => {
    const before = fake.forwards.length;
    const forwarded = () => jump.log().match(new RegExp(`target 127\\.0\\.0\\.1 port ${target.port}`, "g"))?.length ?? 0;
    const jumpedBefore = forwarded();
    const s = await connectSsh(base("ndlab-twohops"));
    try {
      expect((await s.exec("id -un")).stdout.trim()).toBe(TGT);
    } finally {
      await s.close();
    }
    expect(fake.forwards.slice(before)).toEqual([{ host: "127.0.0.1", port: jump.port }]);
    await vi.waitFor(() => expect(forwarded()).toBe(jumpedBefore + 1));
  });

  it("falls back to the default key files (~/.ssh/id_rsa here) when none is configured", async () => {
    const home2 = join(dir, "home2");
    mkdirSync(join(home2, ".ssh"), { recursive: true });
    const rsa = makeKeyPair(join(home2, ".ssh"), "id_rsa", "rsa");
    writeFileSync(join(target.dir, "authorized_keys", TGT), `${tgtKey.publicKey}\n${lockedKey.publicKey}\n${rsa.publicKey}\n`);
    const s = await connectSsh({ ...base("ndlab-default-key"), homeDir: home2 });
    try {
      expect((await s.exec("id -un")).stdout.trim()).toBe(TGT);
    } finally {
      await s.close();
    }
  });

  it("names the jump host when the final hop refuses", async () => {
    const o = base("ndlab-jumped");
    const e = await codeOf(connectSsh({ ...o, target: { ...o.target, ssh: { host: "ndlab-jumped", user: "ndsshnobody" } } }));
    expect(e.code).toBe("NETDBG-E800");
    expect(e.message).toContain(`ndsshnobody@127.0.0.1 port ${target.port} (via ${JUMP}@127.0.0.1 port ${jump.port})`);
  });

  it("authenticates with ssh-agent (and a passphrase key only through the agent)", async () => {
    requireTool("/usr/bin/ssh-agent", "openssh-client");
    const sock = join(dir, "agent.sock");
    const agent: ChildProcess = spawn("ssh-agent", ["-D", "-a", sock], { stdio: "ignore" });
    try {
      await vi.waitFor(() => expect(existsSync(sock)).toBe(true));
      // Without the agent, the passphrase key cannot be used: the error says so.
      const o = base("ndlab-agent");
      const noAgent = { ...o, target: { ...o.target, ssh: { host: "ndlab-agent", identityFile: lockedKey.privateKeyPath } } };
      const e = await codeOf(connectSsh(noAgent));
      expect(e.code).toBe("NETDBG-E800");
      expect(e.message).toContain("has a passphrase");
      writeFileSync(join(dir, "askpass"), "#!/bin/sh\necho s3cret-pass\n", { mode: 0o755 });
      // Agent holding it: works even with no readable key file (home has none of the default names).
      execFileSync("ssh-add", [lockedKey.privateKeyPath], {
        env: {
          ...process.env,
          SSH_AUTH_SOCK: sock,
          SSH_ASKPASS: join(dir, "askpass"),
          SSH_ASKPASS_REQUIRE: "force",
          DISPLAY: "x",
        },
        stdio: "ignore",
        input: "",
      });
      const s = await connectSsh({ ...o, agentSocket: sock });
      try {
        expect((await s.exec("id -un")).stdout.trim()).toBe(TGT);
      } finally {
        await s.close();
      }
      // The failure message lists what was offered.
      execFileSync("ssh-add", ["-D"], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: "ignore" });
      const e2 = await codeOf(connectSsh({ ...o, agentSocket: sock }));
      expect(e2.code).toBe("NETDBG-E800");
      expect(e2.message).toContain("ssh-agent");
    } finally {
      agent.kill("SIGTERM");
    }
  });

  it("resolves through OpenSSH's ssh -G (Include, Match, UserKnownHostsFile), the parser as fallback", async () => {
    const inc = join(dir, "included.conf");
    writeFileSync(
      inc,
      ["Host lab", "  HostName 127.0.0.9", "  Port 2201", `  UserKnownHostsFile ${join(dir, "kh-lab")}`, ""].join("\n"),
    );
    const cfg = join(dir, "config-g");
    writeFileSync(cfg, [`Include ${inc}`, "Match originalhost lab", "  User matched", ""].join("\n"));
    const g = await resolveSshTarget({ name: "t", address: "lab" }, { sshConfigPath: cfg });
    expect(g).toMatchObject({
      alias: "lab",
      hostName: "127.0.0.9",
      port: 2201,
      user: "matched",
      userKnownHostsFile: join(dir, "kh-lab"),
      configFile: "ssh -G",
      identityFiles: ["id_ed25519", "id_ecdsa", "id_rsa"].map((f) => join(homedir(), ".ssh", f)),
      explicitIdentityFiles: [],
    });
    // the inventory's explicit values still win over ssh_config
    expect(
      await resolveSshTarget({ name: "t", address: "lab", ssh: { user: "me", port: 22 } }, { sshConfigPath: cfg }),
    ).toMatchObject({
      user: "me",
      port: 22,
    });
    // without OpenSSH, the parser (which ignores Include and Match)
    const p = await resolveSshTarget({ name: "t", address: "lab" }, { sshConfigPath: cfg, sshBinary: join(dir, "no-ssh-here") });
    expect(p).toMatchObject({ hostName: "lab", port: 22, configFile: cfg });
  });
});
