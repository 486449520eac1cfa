/**
 * The Windows setup pipeline over real SSH: the target model behind (1) the in-process ssh2 Server fake and
 * (2) a real OpenSSH sshd whose ForceCommand hands each command line to the model (forced-model.ts).
 * Both carry the exact bytes netdbg sends: powershell.exe … -EncodedCommand <base64>, or -Command - with the
 * script on stdin when it is long.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { isNetdbgError } from "../../../src/core/error.js";
import { systemClock } from "../../../src/core/interfaces.js";
import { MemoryJournalStore } from "../../../src/io/journal-store.js";
import { connectSsh, type SshSession } from "../../../src/io/ssh.js";
import {
  parseDbgSettings,
  type ScriptRunner,
  sessionRunner,
  setupWindows,
  teardownWindows,
} from "../../../src/targets/windows/index.js";
import { startSshPeer, type SshPeer } from "../../../src/peers/ssh-server.js";
import { type ForcedModel, type ForcedState, serveForcedModel } from "../../fakes/windows-target/forced-model.js";
import { defaultState, WindowsTargetModel } from "../../../src/peers/windows-target/model.js";
import { createTestUser, makeKeyPair, removeTestUser, type Sshd, startSshd, tempDir, testUserName } from "../../helpers/sshd.js";
import { serializeStore } from "../../../src/peers/windows-target/bcd.js";
import { setupConfig } from "../../helpers/windows-config.js";

const KEY = "1a2b3c4d5e6f7.2b3c4d5e6f7g8.3c4d5e6f7g8h9.4d5e6f7g8h9i0";
const config = setupConfig({ hostIp: "127.0.0.1", key: KEY, stamp: "20261121T060000Z" });

/** The pipeline the CLI runs: setup, a second setup (unchanged), teardown (byte-exact). */
async function pipeline(run: ScriptRunner, storeBytes: () => string, dbgsettingsText: () => string) {
  const store = new MemoryJournalStore();
  const original = storeBytes();
  const r1 = await setupWindows({ run, store, clock: systemClock, config: { ...config, noKdnic: true } });
  expect(parseDbgSettings(dbgsettingsText())).toMatchObject(r1.plan.expected);
  const afterSetup = storeBytes();
  const r2 = await setupWindows({ run, store, clock: systemClock, config: { ...config, noKdnic: true } });
  expect(r2.report.changed).toBe(false);
  expect(storeBytes()).toBe(afterSetup);
  await teardownWindows({ target: "win", run, journal: await store.load("win"), store, clock: systemClock });
  expect(storeBytes()).toBe(original);
  return r1;
}

describe("over the in-process ssh2 Server fake", () => {
  let srv: SshPeer;
  let dir: string;
  const model = new WindowsTargetModel(defaultState());
  let session: SshSession;
  beforeAll(async () => {
    dir = tempDir("win-fake");
    srv = await startSshPeer({
      users: ["admin"],
      noSftp: true,
      exec: ({ command, stdin }) => {
        const r = model.exec(command, stdin === "" ? undefined : stdin);
        return { stdout: r.stdout, stderr: r.stderr, code: r.dropped ? 255 : r.exitCode };
      },
    });
    session = await connectSsh(srv.connectOptions(dir, "admin"));
  });
  afterAll(async () => {
    await session?.close();
    await srv?.stop();
  });

  it("setup, rerun unchanged, teardown byte for byte — every command one of the two powershell.exe forms", async () => {
    const run = sessionRunner(session, "win");
    await pipeline(
      run,
      () => model.storeBytes(),
      () => model.bcd(["/dbgsettings"]).output,
    );
    expect(srv.commands.length).toBeGreaterThan(10);
    const forms = srv.commands.map((c) =>
      /^powershell\.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand [A-Za-z0-9+/=]+$/.test(c.command) &&
      c.stdin === ""
        ? "encoded"
        : c.command === "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command -" && c.stdin !== ""
          ? "stdin"
          : c.command,
    );
    expect(new Set(forms)).toEqual(new Set(["encoded", "stdin"]));
    // the probe script is too long for cmd.exe's 8191-character line: it goes on stdin
    expect(model.received.filter((r) => r.script === "probe").every((r) => r.commandLine.endsWith("-Command -"))).toBe(true);
    for (const c of srv.commands) expect(c.command.length).toBeLessThanOrEqual(8000);
  });

  it("a long script travels on stdin to -Command - and is answered the same", async () => {
    const run = sessionRunner(session, "win");
    const known = Array.from({ length: 150 }, (_, i) => `{00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}}`);
    const r = await run.run<{ exitCode: number; deleted: string[] }>("bcd-delete-entry", {
      Guid: "",
      Description: "nothing [netdbg]",
      Known: known,
    });
    expect(r).toMatchObject({ exitCode: 0, deleted: [] });
    const last = srv.commands.at(-1)!;
    expect(last.command).toBe("powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command -");
    expect(last.stdin).toMatch(
      /^\$s = \[Text\.Encoding\]::Unicode\.GetString\(\[Convert\]::FromBase64String\('[A-Za-z0-9+/=]+'\)\); & \(\[scriptblock\]::Create\(\$s\)\)\r\n/,
    );
    expect(model.received.at(-1)?.params.Known).toEqual(known);
  });
});

describe("over a real OpenSSH sshd with a ForceCommand into the model", () => {
  const user = testUserName("win");
  let sshd: Sshd;
  let dir: string;
  let stateFile: string;
  let forced: ForcedModel | undefined;
  let session: SshSession;
  let connect: () => Promise<SshSession>;
  const load = () => JSON.parse(readFileSync(stateFile, "utf8")) as ForcedState;
  const save = (f: ForcedState) => writeFileSync(stateFile, JSON.stringify(f));

  beforeAll(async () => {
    dir = tempDir("win-sshd");
    stateFile = join(dir, "state.json");
    save({ state: defaultState({ locale: "zh-CN" }), injections: [], received: [] });
    forced = await serveForcedModel(dir, stateFile);
    createTestUser(user);
    const key = makeKeyPair(dir, "client");
    sshd = await startSshd({ authorizedKeys: { [user]: [key.publicKey] }, forceCommand: forced.command });
    writeFileSync(join(dir, "known_hosts"), `[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey}\n`);
    connect = () =>
      connectSsh({
        target: { name: "win", address: "127.0.0.1", ssh: { user, port: sshd.port, identityFile: key.privateKeyPath } },
        knownHostsPath: join(dir, "known_hosts"),
        agentSocket: null,
        sshConfigPath: null,
        homeDir: dir,
      });
  }, 60_000);
  beforeEach(async () => {
    session = await connect();
  });
  afterEach(async (t) => {
    await session?.close();
    // on failure, show what sshd saw (a dropped connection under heavy load is otherwise hard to tell apart)
    if (t.task.result?.state === "fail") process.stderr.write(`sshd log tail:\n${sshd.log().slice(-3000)}\n`);
  });
  afterAll(async () => {
    await sshd?.stop();
    removeTestUser(user);
    await forced?.close();
  });

  it("the forced command runs as the test user without this clone (as when it is under a mode-0700 directory)", async () => {
    // hide the clone behind an empty tmpfs in a mount namespace of its own; sshd's user runs the forced command there
    const root = fileURLToPath(new URL("../../../", import.meta.url));
    const child = spawn(
      "unshare",
      ["--mount", "sh", "-c", 'mount -t tmpfs none "$ROOT" && exec runuser -u "$U" -- sh -c "$CMD"'],
      {
        env: { ...process.env, ROOT: root, U: user, CMD: forced!.command, SSH_ORIGINAL_COMMAND: "whoami" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const [code] = (await once(child, "close")) as [number | null];
    expect({ stdout, stderr, code }).toEqual({
      stdout: "",
      stderr: "'whoami' is not recognized as an internal or external command.\r\n",
      code: 1,
    });
  });

  it("setup, rerun unchanged, teardown byte for byte (zh-CN output, CRLF) through sshd", async () => {
    const run = sessionRunner(session, "win");
    const r1 = await pipeline(
      run,
      () => serializeStore(load().state.store),
      () => new WindowsTargetModel(load().state).bcd(["/dbgsettings"]).output,
    );
    expect(r1.plan.expected.busparams).toBe("0.3.0");
    const seen = load().received.map((x) => x.script);
    expect(seen.slice(0, 2)).toEqual(["whoami", "probe"]);
  }, 120_000);

  it("a failure injected mid-way over sshd rolls back to the original store", async () => {
    const f = load();
    const original = serializeStore(f.state.store);
    save({ ...f, injections: [{ script: "bcdedit", bcdArg: "/bootsequence", mode: "after" }] });
    const run = sessionRunner(session, "win");
    const e = await setupWindows({ run, store: new MemoryJournalStore(), clock: systemClock, config }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isNetdbgError(e), String(e)).toBe(true);
    expect(load().injections).toEqual([]);
    expect(serializeStore(load().state.store)).toBe(original);
  }, 120_000);
});
