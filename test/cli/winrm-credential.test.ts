/**
 * `--via winrm` outside a domain needs an account of the target: --winrm-user asks its password on a terminal; a
 * run that cannot ask (no terminal, --json) stops with E228 before anything starts, and the two ways of naming
 * the account are not mixed. (Logging on with them runs in the real PowerShell engine: test/peers/windows-engine.)
 */
import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { runCliSource as runCli, stateDirWith } from "../helpers/cli.js";

const home = stateDirWith(
  [{ name: "win", os: "windows", address: "127.0.0.1", port: 50001, transport: { hostIp: "127.0.0.1" } }],
  "nd-winrm-cred-",
);
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe("--winrm-user and --winrm-credential", () => {
  for (const command of [
    ["setup", "win", "--no-connect"],
    ["teardown", "win"],
  ]) {
    it(`${command[0]}: --winrm-user with nobody to ask is E228 (exit 2); both options at once is E003`, async () => {
      const r = await runCli(["--json", ...command, "--via", "winrm", "--winrm-user", "WIN11\\netdbg"], {
        env: { NETDBG_HOME: home },
      });
      expect(r.code, r.stderr).toBe(2);
      const err = JSON.parse(r.stdout).error as { code: string; message: string; fix: string };
      expect(err.code).toBe("NETDBG-E228");
      expect(err.message).toContain("--winrm-user WIN11\\netdbg needs its password");
      expect(err.fix).toContain("--winrm-credential <file>");
      const both = await runCli(
        ["--json", ...command, "--via", "winrm", "--winrm-user", "u", "--winrm-credential", "/nonexistent.xml"],
        { env: { NETDBG_HOME: home } },
      );
      expect(both.code, both.stderr).toBe(2);
      expect(JSON.parse(both.stdout).error.code).toBe("NETDBG-E003");
    }, 60_000);
  }
});
