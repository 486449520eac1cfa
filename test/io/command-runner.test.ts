import { describe, expect, it } from "vitest";
import { ExecaCommandRunner } from "../../src/io/command-runner.js";

describe("ExecaCommandRunner (real processes)", () => {
  const r = new ExecaCommandRunner();
  it("passes argv verbatim, never through a shell", async () => {
    const out = await r.run("printf", ["%s|", "$(id -u)", "a b", "'q'", "; echo x"]);
    expect(out).toEqual({ stdout: "$(id -u)|a b|'q'|; echo x|", stderr: "", exitCode: 0 });
  });
  it("a non-zero exit is a result; stdin input is delivered", async () => {
    expect((await r.run("sh", ["-c", "cat; echo err >&2; exit 7"], { input: "in" })).exitCode).toBe(7);
    const res = await r.run("sh", ["-c", "cat; echo err >&2; exit 7"], { input: "in" });
    expect([res.stdout, res.stderr.trim()]).toEqual(["in", "err"]);
  });
  it("a missing program is NETDBG-E018", async () => {
    await expect(r.run("nd-host-no-such-program", [])).rejects.toMatchObject({ code: "NETDBG-E018" });
  });
});
