/**
 * No secret in any output, in any encoding: the demo (real SSH, the Windows model, KDNET on real UDP) with
 * --verbose and --json, kept state included. The spellings are computed here, independently of src/core/redact.ts.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCliSource as runCli } from "../helpers/cli.js";

/** The key as it is, in either case, in hex, and base64 of its UTF-8 / UTF-16LE bytes at each alignment. */
function spellings(key: string): string[] {
  const out = new Set([key, key.toLowerCase(), key.toUpperCase()]);
  const hex = Buffer.from(key).toString("hex");
  out.add(hex).add(hex.toUpperCase());
  for (const enc of ["utf8", "utf16le"] as const) {
    const bytes = Buffer.from(key, enc);
    for (let pre = 0; pre < 3; pre++) {
      const b64 = Buffer.concat([Buffer.alloc(pre), bytes]).toString("base64");
      const rest = (pre + bytes.length) % 3;
      out.add(b64.slice([0, 2, 3][pre], b64.length - (rest === 0 ? 0 : rest === 1 ? 3 : 2)));
    }
  }
  return [...out];
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe("secrets", () => {
  it("the demo with --verbose --json prints and keeps the KDNET key in no encoding", async () => {
    const r = await runCli(["--verbose", "--json", "demo", "--keep"], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const dir = JSON.parse(r.stdout).demo.stateDir as string;
    const key = readFileSync(join(dir, "keys", "demo-win.key"), "utf8").trim();
    expect(key.split(".")).toHaveLength(4);
    const places: [string, string][] = [
      ["stdout", r.stdout],
      ["stderr", r.stderr],
      ...filesUnder(dir)
        .filter((f) => !f.includes(`${join(dir, "keys")}/`))
        .map((f): [string, string] => [f, readFileSync(f, "latin1")]),
    ];
    expect(r.stderr).toContain("-EncodedCommand"); // --verbose did log the remote commands
    for (const [where, text] of places)
      for (const s of spellings(key)) expect(text.includes(s), `${where} holds the key (${s.slice(0, 6)}…)`).toBe(false);
  }, 180_000);
});
