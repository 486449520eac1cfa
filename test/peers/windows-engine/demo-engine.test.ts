/**
 * `netdbg demo` says which engine ran the Windows scripts: PowerShell (with its version) when pwsh is installed,
 * the model's table when it is not ($NETDBG_PWSH naming a missing file stands for "not installed"); both finish.
 */
import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, tempHome } from "../../helpers/cli.js";
import { noPwsh } from "../../helpers/pwsh.js";

const homes: string[] = [];
afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

async function demo(env: Record<string, string>, json: boolean) {
  const home = tempHome("nd-demo-engine-");
  homes.push(home);
  const r = await runCli(["demo", ...(json ? ["--json"] : [])], { home, env });
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return r;
}

describe("netdbg demo: which engine ran the Windows scripts", () => {
  it("without pwsh: the model's table, said in the summary", async () => {
    const r = await demo({ NETDBG_PWSH: "/nonexistent/pwsh" }, false);
    expect(r.stdout + r.stderr).toContain(
      "netdbg's Windows scripts ran in the Windows model's table (no PowerShell 7 'pwsh' found)",
    );
  }, 90_000);

  it.skipIf(noPwsh())(
    "with pwsh: PowerShell and its version in --json",
    async () => {
      const r = await demo({}, true);
      const j = JSON.parse(r.stdout) as { windows: { scripts: { engine: string; version?: string } } };
      expect(j.windows.scripts.engine).toBe("pwsh");
      expect(j.windows.scripts.version).toMatch(/^7\.\d+\.\d+$/);
    },
    90_000,
  );
});
