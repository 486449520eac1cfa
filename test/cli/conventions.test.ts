/** The conventions a user brings (issue #12): addresses, hand-off lines, SSH habits, teardown --check. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, tempHome } from "../helpers/cli.js";

describe("addresses given on the command line", () => {
  it.each([
    ["10.0.0.300", /'300' is not a decimal number 0-255/],
    ["127.1", /read as 127\.0\.0\.1/],
    ["0x7f.1", /read as 127\.0\.0\.1/],
  ])("targets add --address %s is a usage error with the reason", async (address, reason) => {
    const home = tempHome();
    const r = await runCli(["targets", "add", "t1", "--os", "linux", "--address", address], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(reason);
    expect(r.stderr).toContain("NETDBG-E003");
    const list = await runCli(["--json", "targets", "list"], { home });
    expect(JSON.parse(list.stdout).targets).toEqual([]);
  });
});

describe("teardown --check with no journal", () => {
  it.each(["linux", "windows"])("%s: says nothing is recorded, exit 0, without opening SSH", async (os) => {
    const home = tempHome();
    let connections = 0;
    const sshd = createServer((sock) => {
      connections++;
      sock.destroy();
    });
    await new Promise<void>((r) => sshd.listen(0, "127.0.0.1", r));
    const port = (sshd.address() as { port: number }).port;
    try {
      const add = await runCli(["targets", "add", "t1", "--os", os, "--address", "127.0.0.1", "--ssh-port", String(port)], {
        home,
      });
      expect(add.code, add.stderr).toBe(0);
      const r = await runCli(["teardown", "t1", "--check"], { home });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/Nothing is recorded for 't1' \(no change journal at .*t1\.json\)/);
      const j = await runCli(["--json", "teardown", "t1", "--check"], { home });
      expect(JSON.parse(j.stdout)).toMatchObject({ target: "t1", check: true, changed: false, actions: [] });
      expect(connections).toBe(0);
    } finally {
      sshd.close();
    }
  });
});

describe("netdbg windbg <target>: hand-off lines", () => {
  it("redacted, the lines paste and run (sh and PowerShell) to exactly the --show-secrets lines", async () => {
    const home = tempHome();
    expect((await runCli(["targets", "add", "w1", "--os", "windows", "--address", "192.0.2.7"], { home })).code).toBe(0);
    const full = await runCli(["--show-secrets", "windbg", "w1"], { home });
    const key = (await runCli(["--show-secrets", "keys", "show", "w1"], { home })).stdout.trim();
    expect(full.stdout).toBe(`windbg -k net:port=50000,key=${key}\nkd -k net:port=50000,key=${key}\n`);
    const red = await runCli(["windbg", "w1"], { home });
    expect(red.code).toBe(0);
    expect(red.stdout).not.toContain(key);
    expect(red.stdout).not.toContain("…");
    const lines = red.stdout.trim().split("\n");
    // a netdbg on PATH that is this build, and windbg/kd that print their arguments
    const bin = mkdtempSync(join(tmpdir(), "netdbg-bin-"));
    const cli = new URL("../../bin/netdbg.js", import.meta.url).pathname;
    writeFileSync(join(bin, "netdbg"), `#!/bin/sh\nexec "${process.execPath}" "${cli}" "$@"\n`, { mode: 0o755 });
    for (const tool of ["windbg", "kd"]) writeFileSync(join(bin, tool), `#!/bin/sh\necho "${tool} $*"\n`, { mode: 0o755 });
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, NETDBG_HOME: home };
    const viaSh = lines.map((l) => execFileSync("sh", ["-c", l], { env, encoding: "utf8" })).join("");
    expect(viaSh).toBe(full.stdout);
    const pwsh = ["pwsh", "/root/.dotnet/tools/pwsh"].find((p) => {
      try {
        execFileSync(p, ["-NoProfile", "-Command", "exit 0"], { stdio: "ignore" });
        return true;
      } catch {
        return false;
      }
    });
    expect(pwsh, "PowerShell 7 (pwsh) is needed for this test").toBeDefined();
    const viaPwsh = lines.map((l) => execFileSync(pwsh!, ["-NoProfile", "-Command", l], { env, encoding: "utf8" })).join("");
    expect(viaPwsh).toBe(full.stdout);
  }, 60_000);
});
