/**
 * A failing stub at every step of setup, with the scripts in a real PowerShell: bcdedit.exe exiting non-zero
 * (with its error text in the profile's OEM code page), a cmdlet's terminating error. Each gives a coded error
 * and a full rollback: the BCD store byte for byte as before, BitLocker protection back on, every journal entry
 * undone.
 */
import { describe, expect, it } from "vitest";
import { isNetdbgError } from "../../../src/core/error.js";
import { systemClock } from "../../../src/core/interfaces.js";
import { MemoryJournalStore } from "../../../src/io/journal-store.js";
import { WindowsTargetModel } from "../../../src/peers/windows-target/model.js";
import { PROFILES, type ProfileName } from "../../../src/peers/windows-target/profiles.js";
import { ModelSession } from "../../../src/peers/windows-target/session.js";
import { type StubFault, stubFaults } from "../../../src/peers/windows-target/stubs.js";
import { sessionRunner, setupWindows } from "../../../src/targets/windows/index.js";
import { noPwsh, useEngine } from "../../helpers/pwsh.js";
import { KEY, setupConfig } from "../../helpers/windows-config.js";

const config = setupConfig();
const engine = useEngine();

// German bcdedit failure text with non-ASCII letters: CP850 bytes on the wire
const DE_FAIL = "Fehler beim Öffnen des Startkonfigurationsdatenspeichers.\r\nZugriff verweigert – Schlüssel ungültig.\r\n";

const STEPS: { step: string; fault: StubFault; profile: ProfileName; code: string }[] = [
  { step: "bcd.export", fault: { name: "bcdedit.exe", arg: "/export" }, profile: "pro", code: "NETDBG-E210" },
  {
    step: "bitlocker.suspend",
    fault: { name: "Suspend-BitLocker", message: "The device is not ready." },
    profile: "pro",
    code: "NETDBG-E212",
  },
  {
    step: "bcd.copy",
    fault: { name: "bcdedit.exe", arg: "/copy", exitCode: 1, output: DE_FAIL },
    profile: "de-DE-cp850",
    code: "NETDBG-E210",
  },
  { step: "bcd.debug", fault: { name: "bcdedit.exe", arg: "/debug", exitCode: 1 }, profile: "server-2022", code: "NETDBG-E210" },
  // the probe reads /dbgsettings first: the fault lets that call through
  {
    step: "bcd.dbgsettings",
    fault: { name: "bcdedit.exe", arg: "/dbgsettings", skip: 1, exitCode: 1, output: DE_FAIL },
    profile: "de-DE-cp850",
    code: "NETDBG-E210",
  },
  { step: "bcd.busparams", fault: { name: "bcdedit.exe", arg: "/set", exitCode: 5 }, profile: "home", code: "NETDBG-E210" },
  {
    step: "bcd.bootsequence",
    fault: { name: "bcdedit.exe", arg: "/bootsequence", exitCode: 1 },
    profile: "hyperv-host",
    code: "NETDBG-E210",
  },
];

describe.skipIf(noPwsh())("a failing stub at every setup step: coded error, full rollback", () => {
  for (const s of STEPS) {
    it(`${s.step} (${s.fault.name}${s.fault.arg ? ` ${s.fault.arg}` : ""} fails, ${s.profile})`, async () => {
      const model = new WindowsTargetModel(PROFILES[s.profile].state());
      const original = model.storeBytes();
      const protection = model.state.bitlocker.map((b) => b.protectionStatus);
      stubFaults(model).push({ ...s.fault });
      const store = new MemoryJournalStore();
      const run = sessionRunner(new ModelSession(model, engine()), "win");
      const e = await setupWindows({ run, store, clock: systemClock, config }).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(isNetdbgError(e), String(e)).toBe(true);
      expect((e as { code: string }).code).toBe(s.code);
      expect(stubFaults(model)).toEqual([]); // the fault fired
      expect(String((e as Error).message)).not.toContain(KEY);
      expect(model.storeBytes()).toBe(original);
      expect(model.state.bitlocker.map((b) => b.protectionStatus)).toEqual(protection);
      const journal = await store.load("win");
      expect(journal.entries.map((x) => x.id)).toContain(s.step);
      // every change with an undo is undone (the store export has none: it stays on the target by design)
      expect(journal.entries.filter((x) => x.undo !== undefined && x.status !== "failed" && x.status !== "undone")).toEqual([]);
    }, 60_000);
  }
});
