/** `netdbg windbg --json` shows no part of the KDNET key unless --show-secrets (issue #13, "Secrets"). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, tempHome } from "../helpers/cli.js";

describe("netdbg windbg (built CLI)", () => {
  it("--json gives the key's fingerprint, never a prefix of it", async () => {
    const home = tempHome();
    const add = await runCli(["targets", "add", "w1", "--os", "windows", "--address", "192.0.2.9"], { home });
    expect(add.code, add.stderr).toBe(0);
    const key = readFileSync(join(home, "keys", "w1.key"), "utf8")
      .trim()
      .toLowerCase();
    const r = await runCli(["--json", "windbg", "w1"], { home });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { windbg: string[]; keyRedacted: boolean };
    expect(out.keyRedacted).toBe(true);
    expect(out.windbg[2]).toMatch(/^net:port=\d+,key=<redacted:[0-9a-f]{8}>$/);
    expect(r.stdout).not.toContain(`key=${key.slice(0, 4)}`);
    const full = await runCli(["--json", "--show-secrets", "windbg", "w1"], { home });
    expect((JSON.parse(full.stdout) as { windbg: string[] }).windbg[2]).toContain(`key=${key}`);
  });
});
