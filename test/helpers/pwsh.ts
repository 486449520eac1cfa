/**
 * PowerShell 7 for the tests that run netdbg's Windows scripts in a real engine (src/peers/windows-target/engine.ts).
 * .ci/run installs it (`dotnet tool install --global PowerShell --version 7.6.10`). In CI (CI=true) a missing pwsh
 * fails the test file at once; locally the tests that need it are skipped with a message saying how to get it.
 */
import { afterAll, beforeAll } from "vitest";
import { locatePwsh, PwshEngine } from "../../src/peers/windows-target/engine.js";

export const PWSH = locatePwsh();

const HOW = "install it with 'dotnet tool install --global PowerShell --version 7.6.10' (what .ci/run does)";

if (!PWSH && process.env.CI) {
  throw new Error(`PowerShell 7 (pwsh) is not installed, and CI=true: the Windows script tests need it; ${HOW}.`);
}

let warned = false;
/** True when the pwsh tests must be skipped (local run without pwsh); says so once per file. */
export function noPwsh(): boolean {
  if (PWSH) return false;
  if (!warned) {
    warned = true;
    process.stderr.write(`\nPowerShell 7 (pwsh) not found: the real-engine tests of this file are SKIPPED; ${HOW}.\n`);
  }
  return true;
}

/** One engine for the test file (started in beforeAll, closed in afterAll). */
export function useEngine(size = 2): () => PwshEngine {
  let engine: PwshEngine | undefined;
  beforeAll(async () => {
    if (!PWSH) return;
    engine = new PwshEngine(PWSH, size);
    await engine.start();
  }, 60_000);
  afterAll(async () => {
    await engine?.close();
  });
  return () => {
    if (!engine) throw new Error("no PowerShell engine (pwsh missing)");
    return engine;
  };
}
