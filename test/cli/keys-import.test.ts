/**
 * `netdbg keys import <target>`: a key kdnet.exe printed (Microsoft's documented "Key=" line, test/fixtures/
 * kdnet-exe) or a colleague sent, read from a file or standard input — never from the command line — stored
 * for the target, never printed in full, refusing to overwrite a different key without --replace.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeEach, describe, expect, it } from "vitest";
import { extractKdnetKey } from "../../src/cli/commands/keys.js";
import { parseKdnetKey } from "../../src/core/kdnet-key.js";
import { runCli, tempHome } from "../helpers/cli.js";

const KDNET_EXE = fileURLToPath(new URL("../fixtures/kdnet-exe/docs-enable-hostip-key-line.txt", import.meta.url));
const FROM_KDNET = "2steg4fzbj2sz.23418vzkd4ko3.1g34ou07z4pev.1sp3yo9yz874p";
const OTHER = "1a2b3c.4d5e6f.7g8h9i.0j1k2l";
let home: string;

beforeEach(async () => {
  home = tempHome();
  expect((await runCli(["targets", "add", "w", "--os", "windows", "--address", "10.0.0.5", "--no-key"], { home })).code).toBe(0);
});

const shown = async () => (await runCli(["--show-secrets", "keys", "show", "w"], { home })).stdout.trim();

describe("netdbg keys import", () => {
  it("stores the key from kdnet.exe's output file, printing it redacted", async () => {
    const r = await runCli(["keys", "import", "w", "--file", KDNET_EXE], { home });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("Imported the KDNET key of 'w'");
    expect(r.stdout + r.stderr).not.toContain(FROM_KDNET);
    expect(await shown()).toBe(FROM_KDNET);
  });

  it("reads standard input, and refuses to replace a different key without --replace", async () => {
    expect((await runCli(["keys", "import", "w"], { home, input: `${FROM_KDNET}\n` })).code).toBe(0);
    const again = await runCli(["keys", "import", "w"], { home, input: `Key=${OTHER}\n` });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("--replace");
    expect(await shown()).toBe(FROM_KDNET);
    const same = await runCli(["keys", "import", "w"], { home, input: FROM_KDNET });
    expect(same.code).toBe(0);
    expect(same.stdout).toContain("nothing changed");
    const replaced = await runCli(["keys", "import", "w", "--replace"], { home, input: `key=${OTHER}` });
    expect(replaced.code).toBe(0);
    expect(replaced.stdout).toContain("netdbg setup w");
    expect(await shown()).toBe(parseKdnetKey(OTHER).text);
  });

  it("a malformed key is refused without printing any part of it", async () => {
    const secretish = "zzzzqqqq.4d5e6f_x.7g8h9i.0j1k2l";
    const r = await runCli(["keys", "import", "w"], { home, input: secretish });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("NETDBG-E008");
    for (const part of ["zzzzqqqq", "4d5e6f_x", "7g8h9i", "0j1k2l"]) expect(r.stderr).not.toContain(part);
  });

  it("refuses a Linux target and an unreadable file with their codes", async () => {
    await runCli(["targets", "add", "l", "--os", "linux", "--address", "10.0.0.6"], { home });
    expect((await runCli(["keys", "import", "l"], { home, input: OTHER })).code).toBe(2);
    const missing = await runCli(["keys", "import", "w", "--file", join(home, "nope.txt")], { home });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("NETDBG-E013");
  });
});

describe("extractKdnetKey", () => {
  it("finds the key in kdnet.exe, bcdedit and WinDbg text, and refuses two different keys", () => {
    expect(extractKdnetKey(`Enabling network debugging.\r\nKey=${FROM_KDNET}\r\n`)).toBe(FROM_KDNET);
    expect(extractKdnetKey(`key                     ${OTHER}\nport 50000`)).toBe(OTHER);
    expect(extractKdnetKey(`windbg -k net:port=50000,key=${OTHER}`)).toBe(OTHER);
    expect(extractKdnetKey(`  ${OTHER}  `)).toBe(OTHER);
    expect(() => extractKdnetKey(`key=${OTHER}\nkey=${FROM_KDNET}`)).toThrow(/2 different keys/);
  });
});
