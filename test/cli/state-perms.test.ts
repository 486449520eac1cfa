/** netdbg's state must be its user's alone; key errors never echo the key; keys can come from a file or stdin. */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCliSource as runCli, stateDirWith } from "../helpers/cli.js";
import { KEY } from "../helpers/windows-config.js";

const CAPTURE = fileURLToPath(new URL("../fixtures/kdnet/windbg-uncut.pcapng.gz", import.meta.url));

function home(): string {
  const h = stateDirWith([{ name: "w", os: "windows", address: "192.0.2.5" }], "nd-perms-");
  mkdirSync(join(h, "keys"), { mode: 0o700 });
  writeFileSync(join(h, "keys", "w.key"), `${KEY}\n`, { mode: 0o600 });
  return h;
}

describe("state directory permissions", () => {
  it("a keys directory others can read is refused with chmod 700 (not 600) as the fix", async () => {
    const h = home();
    chmodSync(join(h, "keys"), 0o755);
    const r = await runCli(["--json", "keys", "show", "w"], { env: { NETDBG_HOME: h } });
    expect(r.code).toBe(3);
    const e = JSON.parse(r.stdout).error;
    expect(e.code).toBe("NETDBG-E011");
    expect(e.fix).toContain(`chmod 700 ${join(h, "keys")}`);
    expect(e.fix).not.toContain("chmod 600");
  });

  it("a world-writable state or journal directory is refused before a journal is read", async () => {
    const h = home();
    mkdirSync(join(h, "state", "journals"), { recursive: true, mode: 0o700 });
    chmodSync(join(h, "state"), 0o777);
    const r = await runCli(["--json", "teardown", "w"], { env: { NETDBG_HOME: h } });
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).error.code).toBe("NETDBG-E011");
    chmodSync(join(h, "state"), 0o700);
    chmodSync(join(h, "state", "journals"), 0o777);
    const r2 = await runCli(["--json", "teardown", "w"], { env: { NETDBG_HOME: h } });
    expect(JSON.parse(r2.stdout).error.code).toBe("NETDBG-E011");
  });

  it.runIf(process.getuid?.() === 0)("a keys directory owned by another user is refused, saying whose it is", async () => {
    const h = home();
    chownSync(join(h, "keys"), 65534, 65534);
    const r = await runCli(["--json", "keys", "show", "w"], { env: { NETDBG_HOME: h } });
    expect(r.code).toBe(3);
    const e = JSON.parse(r.stdout).error;
    expect(e.code).toBe("NETDBG-E011");
    expect(e.message).toContain("65534");
  });
});

describe("KDNET keys on the command line", () => {
  it("a mistyped key is refused without echoing any part of it (E008)", async () => {
    const bad = "2steg4fzbj2sz.23418vzk!4ko3.1g34ou07z4pev.1sp3yo9yz874p";
    const r = await runCli(["--json", "kdnet", "decode", CAPTURE, "--key", bad]);
    expect(r.code).toBe(2);
    const e = JSON.parse(r.stdout).error;
    expect(e.code).toBe("NETDBG-E008");
    expect(e.message).toContain("character 9 of part 2");
    for (const part of bad.split(".")) expect(r.stdout + r.stderr).not.toContain(part);
  });

  it("--key-file reads the key from a file or from standard input (kept out of ps)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nd-keyfile-"));
    writeFileSync(join(dir, "k"), "8.8.8.8\n", { mode: 0o600 });
    const a = await runCli(["--json", "kdnet", "decode", CAPTURE, "--key-file", join(dir, "k")], { timeoutMs: 120_000 });
    const b = await runCli(["--json", "kdnet", "decode", CAPTURE, "--key-file", "-"], { input: "8.8.8.8\n", timeoutMs: 120_000 });
    const c = await runCli(["--json", "kdnet", "decode", CAPTURE, "--key", "8.8.8.8"], { timeoutMs: 120_000 });
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(a.stdout).toBe(c.stdout);
    expect(b.stdout).toBe(c.stdout);
  }, 240_000);
});
