/**
 * What `netdbg demo` prints in text mode (the built CLI, no terminal): no flag the user never passed, no line
 * twice, and the Windows and Linux progress lines in the same word order.
 */
import { describe, expect, it } from "vitest";
import { runCli, tempHome } from "../helpers/cli.js";

describe("netdbg demo's lines", () => {
  it("says why the host firewall is left alone, prints each undo once, and orders progress words alike", async () => {
    const r = await runCli(["demo"], { home: tempHome() });
    expect(r.code, r.stderr).toBe(0);
    const all = `${r.stdout}\n${r.stderr}`;
    expect(all).not.toContain("--no-host-firewall");
    expect(all.match(/Host firewall: left alone \(the target is on loopback\)\./g)).toHaveLength(2);
    const changed = all.split("\n").filter((l) => l.startsWith("changed: "));
    expect(new Set(changed).size).toBe(changed.length);
    const progress = all.split("\n").filter((l) => l.startsWith("› "));
    // "<action>: changed" and "undo <action>: changed" on both OSes, never "changed: <action>"
    expect(progress.filter((l) => /^› changed: /.test(l))).toEqual([]);
    expect(progress.some((l) => /^› Load kgdboe on eth0, UDP port \d+: changed$/.test(l))).toBe(true);
    expect(progress.some((l) => /^› Export the whole BCD store: changed$/.test(l))).toBe(true);
    expect(progress.some((l) => /^› undo Load kgdboe on eth0, UDP port \d+: changed$/.test(l))).toBe(true);
    expect(progress.some((l) => /^› undo Export the whole BCD store: changed$/.test(l))).toBe(true);
  }, 120_000);
});
