/**
 * Behind a REAL OpenSSH sshd, the scripts run in a real PowerShell: sshd's ForceCommand hands each command line
 * (and stdin) to the model, which runs it in the test's engine (forced-model.ts) and returns the exact bytes.
 * setup, a rerun (unchanged) and teardown on Windows Server 2022 without the BitLocker feature, German, CP850.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../../src/core/interfaces.js";
import { MemoryJournalStore } from "../../../src/io/journal-store.js";
import { connectSsh } from "../../../src/io/ssh.js";
import { serializeStore } from "../../../src/peers/windows-target/bcd.js";
import { defaultState } from "../../../src/peers/windows-target/model.js";
import { sessionRunner, setupWindows, teardownWindows } from "../../../src/targets/windows/index.js";
import { type ForcedModel, type ForcedState, serveForcedModel } from "../../fakes/windows-target/forced-model.js";
import { noPwsh, useEngine } from "../../helpers/pwsh.js";
import { createTestUser, makeKeyPair, removeTestUser, type Sshd, startSshd, tempDir, testUserName } from "../../helpers/sshd.js";
import { setupConfig } from "../../helpers/windows-config.js";

const KEY = "1a2b3c4d5e6f7.2b3c4d5e6f7g8.3c4d5e6f7g8h9.4d5e6f7g8h9i0";
const config = setupConfig({ hostIp: "127.0.0.1", key: KEY, bitlockerUnknownOk: true }); // neither BitLocker cmdlets nor its WMI provider below: knowingly (E226 is tested in bitlocker.test.ts)
const engine = useEngine();

describe.skipIf(noPwsh())("real OpenSSH sshd → forced command → real PowerShell", () => {
  const user = testUserName("wps");
  let sshd: Sshd | undefined;
  let forced: ForcedModel | undefined;
  let dir: string;
  let stateFile: string;
  let keyPath: string;
  const load = () => JSON.parse(readFileSync(stateFile, "utf8")) as ForcedState;

  beforeAll(async () => {
    dir = tempDir("win-pwsh");
    stateFile = join(dir, "state.json");
    writeFileSync(
      stateFile,
      JSON.stringify({
        state: defaultState({
          locale: "de-DE",
          oemCodePage: 850,
          modules: ["NetLbfo", "NetAdapter", "SecureBoot", "CimCmdlets"],
          bitlocker: [],
        }),
        injections: [],
        received: [],
      }),
    );
    forced = await serveForcedModel(dir, stateFile, engine());
    createTestUser(user);
    const key = makeKeyPair(dir, "client");
    keyPath = key.privateKeyPath;
    sshd = await startSshd({ authorizedKeys: { [user]: [key.publicKey] }, forceCommand: forced.command });
    writeFileSync(join(dir, "known_hosts"), `[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey}\n`);
  }, 90_000);
  afterAll(async () => {
    await sshd?.stop();
    removeTestUser(user);
    await forced?.close();
  });

  it("setup, rerun unchanged, teardown byte for byte; the probe went on stdin", async () => {
    const session = await connectSsh({
      target: { name: "win", address: "127.0.0.1", ssh: { user, port: sshd!.port, identityFile: keyPath } },
      knownHostsPath: join(dir, "known_hosts"),
      agentSocket: null,
      sshConfigPath: null,
      homeDir: dir,
    });
    try {
      const run = sessionRunner(session, "win");
      const store = new MemoryJournalStore();
      const original = serializeStore(load().state.store);
      const r1 = await setupWindows({ run, store, clock: systemClock, config });
      expect(r1.verified?.dbgsettings).toMatchObject({ hostip: "127.0.0.1", port: 50005 });
      expect(r1.report.actions.some((a) => a.id === "bitlocker.suspend")).toBe(false);
      const r2 = await setupWindows({ run, store, clock: systemClock, config });
      expect(r2.report.changed).toBe(false);
      await teardownWindows({ target: "win", run, journal: await store.load("win"), store, clock: systemClock });
      expect(serializeStore(load().state.store)).toBe(original);
      const probe = load().received.find((x) => x.script === "probe");
      expect(probe?.commandLine.endsWith("-Command -")).toBe(true);
      // the scripts ran in PowerShell, not in the table
      expect([...engine().executed].sort()).toEqual(
        expect.arrayContaining(["bcd-delete-entry", "bcd-export", "bcd-restore-object", "bcdedit", "probe", "whoami"]),
      );
    } finally {
      await session.close();
    }
  }, 180_000);
});
