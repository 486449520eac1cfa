/**
 * `--via winrm` in real PowerShell on both sides: netdbg's node-powershell adapter drives a real local pwsh that
 * runs templates/windows/winrm/invoke.ps1; its Invoke-Command (a stand-in: no WinRM on Linux) runs the script
 * block with the target's powershell.exe, which is the model running the exact command in the engine.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { systemClock } from "../../../src/core/interfaces.js";
import { MemoryJournalStore } from "../../../src/io/journal-store.js";
import { setupWindows, teardownWindows, winrmRunner } from "../../../src/targets/windows/index.js";
import { CRED_PASSWORD, CRED_USER } from "../../fakes/windows-target/winrm-rig.js";
import { noPwsh, PWSH, useEngine } from "../../helpers/pwsh.js";
import { withWinrmRig } from "../../helpers/winrm.js";
import { setupConfig } from "../../helpers/windows-config.js";

const config = setupConfig();
const engine = useEngine();

describe.skipIf(noPwsh())("--via winrm: node-powershell → real pwsh → the target's powershell.exe in the engine", () => {
  it("setup, rerun unchanged and teardown on Windows 11 Home (no Hyper-V, no BitLocker cmdlets)", async () => {
    await withWinrmRig(engine(), async ({ model, ps }) => {
      const original = model.storeBytes();
      const run = winrmRunner(ps, "WIN11-HOME", "win");
      const store = new MemoryJournalStore();
      const r = await setupWindows({ run, store, clock: systemClock, config });
      expect(r.verified?.dbgsettings).toMatchObject({ hostip: "192.0.2.10", port: 50005 });
      const again = await setupWindows({ run, store, clock: systemClock, config });
      expect(again.report.changed).toBe(false);
      await teardownWindows({ target: "win", run, journal: await store.load("win"), store, clock: systemClock });
      expect(model.storeBytes()).toBe(original);
      expect(model.received.map((x) => x.script)).toContain("probe");
      expect(engine().executed.has("probe")).toBe(true);
    });
  }, 180_000);

  it("Invoke-Command's own failures are E222 with the fix for their FullyQualifiedErrorId (TrustedHosts, the filtered token)", async () => {
    await withWinrmRig(engine(), async ({ model, ps }) => {
      const failure = async (computer: string) => {
        const e = await winrmRunner(ps, computer, "win")
          .run("whoami")
          .catch((x: unknown) => x);
        expect((e as { code?: string }).code).toBe("NETDBG-E222");
        return e as Error & { fix: string };
      };
      const untrusted = await failure("UNTRUSTED-HOST");
      expect(untrusted.message).toContain("TrustedHosts configuration setting");
      expect(untrusted.message).toContain("(ServerNotTrusted,PSSessionStateBroken");
      expect(untrusted.fix).toContain("Set-Item WSMan:\\localhost\\Client\\TrustedHosts -Value 'UNTRUSTED-HOST' -Concatenate");
      const denied = await failure("DENIED-HOST");
      expect(denied.message).toContain("Access is denied.");
      expect(denied.fix).toContain("LocalAccountTokenFilterPolicy");
      expect(model.received).toEqual([]);
    });
  }, 120_000);

  it("outside a domain: a PSCredential file or a user and password log on; without one E222 says how, and no password shows", async () => {
    await withWinrmRig(engine(), async ({ dir, model, ps }) => {
      // no credential: this host's own logon, which CRED-HOST refuses
      const none = await winrmRunner(ps, "CRED-HOST", "win")
        .run<never>("whoami")
        .catch((x: unknown) => x as Error & { code: string; fix: string });
      expect(none.code).toBe("NETDBG-E222");
      expect(none.fix).toContain("--winrm-credential <file>");
      expect(model.received).toEqual([]);

      // the file 'Get-Credential | Export-Clixml' writes (here made by the real pwsh, from the same data)
      const file = join(dir, "cred.xml");
      execFileSync(PWSH!, [
        ...["-NoProfile", "-NonInteractive", "-Command"],
        `[System.Management.Automation.PSCredential]::new('${CRED_USER}', (ConvertTo-SecureString -String '${CRED_PASSWORD}' -AsPlainText -Force)) | Export-Clixml -Path '${file}'`,
      ]);
      const viaFile = await winrmRunner(ps, "CRED-HOST", "win", { file }).run<{ elevated: boolean }>("whoami");
      expect(viaFile.elevated).toBe(true);
      expect(model.received.map((x) => x.script)).toEqual(["whoami"]);

      // asked on the terminal: user and password as data
      const asked = await winrmRunner(ps, "CRED-HOST", "win", { user: CRED_USER, password: CRED_PASSWORD }).run("whoami");
      expect(asked).toBeDefined();
      expect(model.received).toHaveLength(2);

      // a wrong password: refused, and neither it nor the right one appears in the error
      const wrong = "pw-wrong-0c3b1d";
      const refused = await winrmRunner(ps, "CRED-HOST", "win", { user: CRED_USER, password: wrong })
        .run<never>("whoami")
        .catch((x: unknown) => x as Error & { code: string; fix: string });
      expect(refused.code).toBe("NETDBG-E222");
      expect(`${refused.message} ${refused.fix}`).not.toContain(wrong);
      expect(`${refused.message} ${refused.fix}`).not.toContain(CRED_PASSWORD);

      // a file that holds no credential
      const notCred = join(dir, "not-cred.xml");
      execFileSync(PWSH!, ["-NoProfile", "-NonInteractive", "-Command", `'hello' | Export-Clixml -Path '${notCred}'`]);
      const bad = await winrmRunner(ps, "CRED-HOST", "win", { file: notCred })
        .run<never>("whoami")
        .catch((x: unknown) => x as Error & { code: string; fix: string });
      expect(bad.code).toBe("NETDBG-E222");
      expect(bad.message).toContain("does not hold a PSCredential");
      expect(bad.fix).toContain("Export-Clixml");
      expect(model.received).toHaveLength(2);
    });
  }, 180_000);
});
