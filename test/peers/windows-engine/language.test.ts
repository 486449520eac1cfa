/**
 * Every template is Windows PowerShell 5.1 language: it parses in PowerShell's own parser with 0 errors and uses
 * nothing 5.1 lacks (ps51-check.ps1: ?:, ??, ??=, ?., ?[], && / ||, background &, clean {}, -Parallel, 7-only
 * cmdlets and parameters, utf8NoBOM, `u{}, $PSStyle / $IsWindows). Checked on the files, on each rendered
 * script (the wrapper netdbg sends), and the check itself is shown to catch each construct.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { renderScript, type TemplateName } from "../../../src/targets/windows/ps.js";
import { noPwsh, PWSH } from "../../helpers/pwsh.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const checker = join(root, "test/peers/windows-engine/ps51-check.ps1");
const tdir = join(root, "templates/windows");
const templates = readdirSync(tdir)
  .filter((f) => f.endsWith(".ps1"))
  .map((f) => join(tdir, f));
const wrappers = readdirSync(join(tdir, "winrm"))
  .filter((f) => f.endsWith(".ps1"))
  .map((f) => join(tdir, "winrm", f));
const tmp = mkdtempSync(join(tmpdir(), "nd-ps51-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function check(paths: string[]): Record<string, { errors: string[]; found: string[] }> {
  const out = execFileSync(PWSH!, ["-NoProfile", "-NonInteractive", "-File", checker, ...paths], {
    encoding: "utf8",
    timeout: 60_000,
  });
  return JSON.parse(out);
}

describe.skipIf(noPwsh())("Windows PowerShell 5.1 language", () => {
  it("every template and wrapper parses with 0 errors and uses no PowerShell 7-only syntax", () => {
    expect(templates.length).toBeGreaterThanOrEqual(8);
    const r = check([...templates, ...wrappers]);
    for (const p of [...templates, ...wrappers]) expect(r[p], p).toEqual({ errors: [], found: [] });
  });

  it("every rendered script (the wrapper netdbg sends around the template) passes too", () => {
    const files = templates.map((t) => {
      const name = t.replace(/^.*[\\/]/, "").replace(/\.ps1$/, "") as TemplateName;
      const f = join(tmp, `rendered-${name}.ps1`);
      writeFileSync(f, renderScript(name, { A: "x'y", B: ["p", "q"], C: 3, D: true }));
      return f;
    });
    const r = check(files);
    for (const f of files) expect(r[f], f).toEqual({ errors: [], found: [] });
  });

  it("the check finds each PowerShell 7-only construct", () => {
    const samples: Record<string, string> = {
      ternary: "$a = $true ? 1 : 2",
      coalesce: "$a = $b ?? 'x'",
      "coalesce-assign": "$a ??= 1",
      "null-member": "$" + "{a}?.Name",
      "null-index": "$" + "{a}?[0]",
      chain: "Get-Item x && Get-Item y",
      background: "Get-Process &",
      parallel: "1..3 | ForEach-Object -Parallel { $_ }",
      "parallel-alias": "1..3 | % -Par { $_ }",
      hashtable: "'{}' | ConvertFrom-Json -AsHashtable",
      encoding: "Set-Content -Path x -Value 1 -Encoding utf8NoBOM",
      unicode: '"`u{263A}"',
      psstyle: "$PSStyle.OutputRendering",
      iswindows: "if ($IsWindows) { 1 }",
      geterror: "Get-Error",
      clean: "function f { process { 1 } clean { 2 } }",
      broken: "if ($a) { 'unclosed'",
    };
    const files = Object.entries(samples).map(([k, v]) => {
      const f = join(tmp, `sample-${k}.ps1`);
      writeFileSync(f, `${v}\n`);
      return [k, f] as const;
    });
    const r = check(files.map(([, f]) => f));
    for (const [k, f] of files) {
      const x = r[f]!;
      expect(x.errors.length + x.found.length, `${k}: ${samples[k]}`).toBeGreaterThan(0);
    }
    expect(r[files.find(([k]) => k === "broken")![1]]!.errors.length).toBeGreaterThan(0);
  });
});
