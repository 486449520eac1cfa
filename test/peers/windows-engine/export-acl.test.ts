/**
 * The BCD export holds the KDNET key: its folder (C:\ProgramData\netdbg) is restricted to Administrators and
 * SYSTEM before anything is written, by SID (any display language), through icacls in a real PowerShell; when
 * icacls fails, nothing is exported and setup changes nothing.
 */
import { describe, expect, it } from "vitest";
import { isNetdbgError } from "../../../src/core/error.js";
import { systemClock } from "../../../src/core/interfaces.js";
import { MemoryJournalStore } from "../../../src/io/journal-store.js";
import { defaultState, WindowsTargetModel } from "../../../src/peers/windows-target/model.js";
import { ModelSession } from "../../../src/peers/windows-target/session.js";
import { stubFaults } from "../../../src/peers/windows-target/stubs.js";
import { sessionRunner, setupWindows } from "../../../src/targets/windows/index.js";
import { noPwsh, useEngine } from "../../helpers/pwsh.js";
import { setupConfig } from "../../helpers/windows-config.js";

const config = setupConfig();
const engine = useEngine();

describe.skipIf(noPwsh())("the BCD export folder's ACL (real pwsh)", () => {
  it("is Administrators and SYSTEM only, inheritance removed, before the export is written", async () => {
    const model = new WindowsTargetModel(defaultState());
    await setupWindows({
      run: sessionRunner(new ModelSession(model, engine()), "win"),
      store: new MemoryJournalStore(),
      clock: systemClock,
      config,
    });
    expect(model.state.acls?.["C:\\ProgramData\\netdbg"]).toEqual(["S-1-5-32-544", "S-1-5-18"]);
    expect(Object.keys(model.state.files).some((f) => /^C:\\ProgramData\\netdbg\\.+/.test(f))).toBe(true);
  });

  it("when icacls fails nothing is exported and the BCD store is as it was", async () => {
    const model = new WindowsTargetModel(defaultState());
    const before = model.storeBytes();
    stubFaults(model).push({ name: "icacls.exe", exitCode: 5, output: "C:\\ProgramData\\netdbg: Access is denied.\r\n" });
    const err = await setupWindows({
      run: sessionRunner(new ModelSession(model, engine()), "win"),
      store: new MemoryJournalStore(),
      clock: systemClock,
      config,
    }).catch((e: unknown) => e);
    expect(isNetdbgError(err) && err.message).toMatch(/icacls could not restrict/);
    expect(Object.keys(model.state.files).some((f) => /^C:\\ProgramData\\netdbg\\.+/.test(f))).toBe(false);
    expect(model.storeBytes()).toBe(before);
  });
});
