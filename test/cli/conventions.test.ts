/** The conventions a user brings (issue #12): addresses, hand-off lines, SSH habits, teardown --check. */
import { createServer } from "node:net";
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
