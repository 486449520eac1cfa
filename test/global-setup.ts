/**
 * Suite-wide setup: a log the PowerShell engine (src/peers/windows-target/engine.ts) appends every netdbg template
 * it runs to, from every test worker; test/summary-reporter.ts prints "pwsh executed N of M templates" from it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), "netdbg-suite-"));
  const file = join(dir, "pwsh-templates.log");
  writeFileSync(file, "");
  process.env.NETDBG_PWSH_TEMPLATE_LOG = file;
  return () => rmSync(dir, { recursive: true, force: true });
}
