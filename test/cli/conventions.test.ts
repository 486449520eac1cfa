/** The conventions a user brings (issue #12): addresses, hand-off lines, SSH habits, teardown --check. */
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
