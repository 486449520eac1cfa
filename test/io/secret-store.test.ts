import { chmodSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileSecretStore } from "../../src/io/secret-store.js";
import { KeyringSecretStore, probeKeyring } from "../../src/io/keyring-store.js";

describe("FileSecretStore", () => {
  it("writes 0600 files in a 0700 dir even under umask 0", async () => {
    const old = process.umask(0);
    try {
      const dir = join(mkdtempSync(join(tmpdir(), "nd-sec-")), "keys");
      const s = new FileSecretStore(dir);
      await s.set("t1", "abc.def.ghi.jkl");
      expect(statSync(join(dir, "t1.key")).mode & 0o777).toBe(0o600);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      expect(await s.get("t1")).toBe("abc.def.ghi.jkl");
      expect(await s.delete("t1")).toBe(true);
      expect(await s.get("t1")).toBeUndefined();
      expect(await s.delete("t1")).toBe(false);
    } finally {
      process.umask(old);
    }
  });

  it("refuses a key file others can read", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "nd-sec-")), "keys");
    const s = new FileSecretStore(dir);
    await s.set("t1", "x.y.z.w");
    chmodSync(join(dir, "t1.key"), 0o644);
    await expect(s.get("t1")).rejects.toMatchObject({ code: "NETDBG-E011" });
  });

  it("refuses names that could escape the directory", async () => {
    const s = new FileSecretStore(mkdtempSync(join(tmpdir(), "nd-sec-")));
    await expect(s.set("../evil", "k")).rejects.toMatchObject({ code: "NETDBG-E007" });
  });
});

describe("keyring store selection", () => {
  it("is used only when the write/read/delete probe round-trips", async () => {
    const mem = new Map<string, string>();
    class Good {
      constructor(
        readonly s: string,
        readonly a: string,
      ) {}
      setPassword(p: string) {
        mem.set(this.a, p);
      }
      getPassword() {
        return mem.get(this.a);
      }
      deletePassword() {
        return mem.delete(this.a);
      }
    }
    class Denied extends Good {
      override setPassword(): void {
        throw new Error("Couldn't access platform storage: AccessDenied");
      }
    }
    expect(await probeKeyring(async () => ({ Entry: Good }))).toBeInstanceOf(KeyringSecretStore);
    expect(mem.size).toBe(0); // the probe cleaned up after itself
    expect(await probeKeyring(async () => ({ Entry: Denied }))).toBeUndefined();
    expect(await probeKeyring(async () => ({}))).toBeUndefined();
  });
});
