/**
 * bcdedit failures in the machine's display language, through the real PowerShell engine: the model prints them
 * in its locale (the model's own wordings, see src/peers/windows-target/bcd.ts), and setup names the cause (E201
 * for Secure Boot, E210 with the fix for access denied), keeps bcdedit's raw text, and rolls back.
 */
import { describe, expect, it } from "vitest";
import { isNetdbgError } from "../../../src/core/error.js";
import { systemClock } from "../../../src/core/interfaces.js";
import { MemoryJournalStore } from "../../../src/io/journal-store.js";
import { bcdFailureText } from "../../../src/peers/windows-target/bcd.js";
import { defaultState, WindowsTargetModel } from "../../../src/peers/windows-target/model.js";
import { ModelSession } from "../../../src/peers/windows-target/session.js";
import { stubFaults } from "../../../src/peers/windows-target/stubs.js";
import { sessionRunner, setupWindows } from "../../../src/targets/windows/index.js";
import { noPwsh, useEngine } from "../../helpers/pwsh.js";
import { setupConfig } from "../../helpers/windows-config.js";

const config = setupConfig();
const engine = useEngine();

describe.skipIf(noPwsh())("localized bcdedit failures during setup (real pwsh)", () => {
  for (const locale of ["de-DE", "zh-CN", "fr-FR"] as const) {
    for (const [failure, arg, code, says] of [
      ["secure-boot", "/debug", "NETDBG-E201", /Secure Boot is on/],
      ["access-denied", "/copy", "NETDBG-E210", /elevated \(administrator\) session/],
    ] as const) {
      it(`${locale}: ${failure} on bcdedit ${arg} is ${code}, raw text kept, store rolled back`, async () => {
        const model = new WindowsTargetModel(defaultState({ locale }));
        const original = model.storeBytes();
        stubFaults(model).push({ name: "bcdedit.exe", arg, failure });
        const run = sessionRunner(new ModelSession(model, engine()), "win");
        const e = await setupWindows({ run, store: new MemoryJournalStore(), clock: systemClock, config }).then(
          () => undefined,
          (x: unknown) => x,
        );
        expect(isNetdbgError(e), String(e)).toBe(true);
        const err = e as Error & { code: string; fix?: string };
        expect(err.code).toBe(code);
        expect(`${err.message} ${err.fix ?? ""}`).toMatch(says);
        const raw = bcdFailureText(locale, failure).split("\r\n")[1]!;
        expect(err.message).toContain(raw);
        expect(stubFaults(model)).toEqual([]);
        expect(model.storeBytes()).toBe(original);
      }, 60_000);
    }
  }
});
