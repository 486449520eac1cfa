import { describe, expect, it } from "vitest";
import { ExecaCommandRunner } from "../../src/io/command-runner.js";

describe("ExecaCommandRunner", () => {
  const r = new ExecaCommandRunner();
  it("passes arguments as a vector (no shell), returns stdout and the exit code", async () => {
    const out = await r.run("printf", ["%s|", "a b", "$HOME", "'; echo x"]);
    expect(out).toEqual({ stdout: "a b|$HOME|'; echo x|", stderr: "", exitCode: 0 });
  });
  it("reports a failing program's exit code and stderr without throwing", async () => {
    const out = await r.run("sh", ["-c", "echo oops >&2; exit 3"]);
    expect(out.exitCode).toBe(3);
    expect(out.stderr).toBe("oops\n");
  });
  it("a program that does not exist is exit code 127, like a shell says", async () => {
    const out = await r.run("netdbg-no-such-program", []);
    expect(out.exitCode).toBe(127);
    expect(out.stderr).toContain("netdbg-no-such-program");
  });
  it("feeds input and environment additions", async () => {
    const out = await r.run("sh", ["-c", 'read x; echo "$x-$NETDBG_T"'], { input: "in\n", env: { NETDBG_T: "env" } });
    expect(out.stdout).toBe("in-env\n");
  });
});
