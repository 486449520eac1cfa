/**
 * PowerShell adapters: the invocation line (syntax-checked with tree-sitter-powershell, values round-trip
 * exactly), the real node-powershell adapter and the -EncodedCommand adapter, both against a stand-in
 * executable (test/fakes/fake-pwsh.mjs) that speaks node-powershell's stdin framing.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { ExecaCommandRunner } from "../../src/io/command-runner.js";
import { EncodedPowerShellRunner, NodePowerShellRunner, renderInvocation } from "../../src/io/powershell.js";
import { psSyntax } from "../fakes/ps-syntax.js";
import { noPwsh, PWSH } from "../helpers/pwsh.js";

const FAKE = fileURLToPath(new URL("../fakes/fake-pwsh.mjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "nd-host-ps-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Decode what the invocation line carries (as the stand-in and PowerShell do). */
function decode(line: string): { params: unknown; script: string } {
  const parts = [...line.matchAll(/FromBase64String\('([A-Za-z0-9+/=]*)'\)/g)].map((m) =>
    Buffer.from(m[1]!, "base64").toString("utf8"),
  );
  expect(parts).toHaveLength(2);
  return { params: JSON.parse(parts[0]!), script: parts[1]! };
}

const nasty = fc.string({
  unit: fc.oneof(
    fc.constantFrom("'", '"', "`", "$", "(", ")", ";", "&", "|", "\n", "\r", "@", "{", "}", "#", "\u2018", "\u2019", "\u201C"),
    fc.string({ minLength: 1, maxLength: 1 }),
  ),
  maxLength: 40,
});

describe("renderInvocation", () => {
  it("is valid PowerShell (0 ERROR nodes) and carries any value exactly, as data", async () => {
    const samples = fc.sample(
      fc.record({ A: nasty, B: fc.array(nasty, { maxLength: 3 }), C: fc.integer(), D: fc.boolean() }),
      60,
    );
    for (const params of samples) {
      for (const ending of ["exit", "marker"] as const) {
        const line = renderInvocation("param($A, $B, $C, $D)\n$A", params, ending);
        expect(line.includes("\n")).toBe(false);
        const syn = await psSyntax(line);
        expect(syn, syn.firstError).toMatchObject({ errors: 0, missing: 0, hasError: false });
        expect(decode(line).params).toEqual(params);
      }
    }
  });
  it("the syntax checker does find errors in broken PowerShell", async () => {
    expect((await psSyntax("if ($x { 'oops'")).errors).toBeGreaterThan(0);
  });
  it("refuses parameter names that are not PowerShell identifiers", () => {
    expect(() => renderInvocation("param($a)", { "a; rm": "x" })).toThrow(/parameter name/);
  });
});

describe("NodePowerShellRunner (real node-powershell against a stand-in executable)", () => {
  it("round-trips params, returns stdout, and maps a failing script to a non-zero exit code", async () => {
    const log = join(dir, "np.log");
    const ps = new NodePowerShellRunner({ env: { ...process.env, NODE_POWERSHELL: FAKE } });
    const prev = { NODE_POWERSHELL: process.env.NODE_POWERSHELL, FAKE_PWSH_LOG: process.env.FAKE_PWSH_LOG };
    process.env.NODE_POWERSHELL = FAKE; // node-powershell reads it itself
    process.env.FAKE_PWSH_LOG = log;
    try {
      const value = 'it\'s $(whoami) "quoted" `n ‘x’';
      const r1 = await ps.invoke("param([string]$Name, [string[]]$List)\n$Name", { Name: value, List: ["a", "b'c"] });
      expect(r1.exitCode).toBe(0);
      expect(JSON.parse(r1.stdout.trim())).toEqual({ echo: { Name: value, List: ["a", "b'c"] } });
      const r2 = await ps.invoke("THROW-ME", {});
      expect(r2.exitCode).toBe(1);
      expect(r2.stderr).toContain("Access is denied.");
      const r3 = await ps.invoke("param($Address) Find-NetRoute -RemoteIPAddress $Address", { Address: "192.0.2.9" });
      expect(JSON.parse(r3.stdout.trim()).localAddress).toBe("192.0.2.2");
      const calls = readFileSync(log, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { params: unknown });
      expect(calls.map((c) => c.params)).toEqual([{ Name: value, List: ["a", "b'c"] }, {}, { Address: "192.0.2.9" }]);
    } finally {
      await ps.dispose();
      for (const [k, v] of Object.entries(prev)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
  it("a shell that dies at once is a coded error and leaves no unhandled rejection behind", async () => {
    const ps = new NodePowerShellRunner({ executable: "/bin/false", env: { ...process.env, NODE_POWERSHELL: "" } });
    const saved = process.env.NODE_POWERSHELL;
    delete process.env.NODE_POWERSHELL;
    try {
      await expect(ps.invoke("1", {})).rejects.toMatchObject({ code: "NETDBG-E111" });
    } finally {
      await ps.dispose();
      if (saved !== undefined) process.env.NODE_POWERSHELL = saved;
    }
  });
  it("a missing PowerShell is NETDBG-E110, found before anything is spawned", async () => {
    const ps = new NodePowerShellRunner({ executable: "/nonexistent/nd-host-pwsh", env: { PATH: "/nonexistent" } });
    await expect(ps.invoke("1", {})).rejects.toMatchObject({ code: "NETDBG-E110" });
    await ps.dispose();
  });
});

describe.skipIf(noPwsh())("NodePowerShellRunner in the real pwsh", () => {
  it("takes the exit code from the script, not from whether stderr held anything", async () => {
    const ps = new NodePowerShellRunner({ executable: PWSH! });
    try {
      // what PowerShell writes to stderr for a progress record when its output is redirected (a busy CI
      // machine showed "Preparing modules for first use." this way and the run failed with "exit 1")
      const progress =
        '#< CLIXML\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN><MS><I64 N="SourceId">1</I64><PR N="Record"><AV>Preparing modules for first use.</AV><AI>0</AI><Nil /><PI>-1</PI><PC>-1</PC><T>Completed</T><SR>-1</SR><SD> </SD></PR></MS></Obj></Objs>';
      const ok = await ps.invoke("param([string]$P)\n[Console]::Error.WriteLine($P); '{\"ok\":true}'", { P: progress });
      expect(ok.stderr).toContain("CLIXML");
      expect(ok.exitCode).toBe(0);
      expect(JSON.parse(ok.stdout.trim())).toEqual({ ok: true });
      const warned = await ps.invoke("[Console]::Error.WriteLine('a note'); 'done'");
      expect([warned.exitCode, warned.stdout.trim(), warned.stderr.trim()]).toEqual([0, "done", "a note"]);
      const thrown = await ps.invoke("throw 'Access is denied.'");
      expect(thrown.exitCode).toBe(1);
      expect(thrown.stderr).toContain("Access is denied.");
      const native = await ps.invoke("& sh -c 'exit 7'");
      expect(native.exitCode).toBe(7);
    } finally {
      await ps.dispose();
    }
  }, 60_000);
});

describe("EncodedPowerShellRunner (-EncodedCommand through the real CommandRunner)", () => {
  it("runs '<exe> -NoProfile -NonInteractive -EncodedCommand <b64>' and keeps the exit code", async () => {
    const ps = new EncodedPowerShellRunner(new ExecaCommandRunner(), FAKE);
    const argv = ps.argv("param($X)\n$X", { X: "a'b" });
    expect(argv.slice(0, 4)).toEqual([FAKE, "-NoProfile", "-NonInteractive", "-EncodedCommand"]);
    expect(argv[4]).toMatch(/^[A-Za-z0-9+/=]+$/);
    const line = Buffer.from(argv[4]!, "base64").toString("utf16le");
    expect((await psSyntax(line)).errors).toBe(0);
    const ok = await ps.invoke("param($X)\n$X", { X: "a'b" });
    expect(ok.exitCode).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ echo: { X: "a'b" } });
    const bad = await ps.invoke("THROW-ME", {});
    expect(bad.exitCode).toBe(1);
  });
  it("a missing executable is NETDBG-E110", async () => {
    const ps = new EncodedPowerShellRunner(new ExecaCommandRunner(), "/nonexistent/nd-host-powershell.exe");
    await expect(ps.invoke("1", {})).rejects.toMatchObject({ code: "NETDBG-E110" });
  });
});
