/**
 * known_hosts parsing and matching, cross-checked with OpenSSH's own ssh-keygen (-H hashing, -F lookup, -lf
 * fingerprints) on files written here.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  appendKnownHost,
  checkHostKey,
  hostFieldMatches,
  keyTypeOfBlob,
  knownHostsName,
  knownKeyTypes,
  parseKnownHosts,
  readKnownHosts,
  sha256Fingerprint,
} from "../../src/io/known-hosts.js";
import { hostKeyAlgorithmOrder } from "../../src/io/ssh.js";
import { makeKeyPair, sshKeygenFingerprint, tempDir } from "../helpers/sshd.js";

let dir: string;
let ed: ReturnType<typeof makeKeyPair>;
let rsa: ReturnType<typeof makeKeyPair>;
let other: ReturnType<typeof makeKeyPair>;
const blob = (line: string) => Buffer.from(line.split(" ")[1]!, "base64");

beforeAll(() => {
  dir = tempDir("kh");
  ed = makeKeyPair(dir, "ed");
  rsa = makeKeyPair(dir, "rsa", "rsa");
  other = makeKeyPair(dir, "other");
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("known_hosts", () => {
  it("fingerprints equal ssh-keygen -lf and key types come from the blob", () => {
    expect(sha256Fingerprint(blob(ed.publicKey))).toBe(sshKeygenFingerprint(`${ed.privateKeyPath}.pub`));
    expect(sha256Fingerprint(blob(rsa.publicKey))).toBe(sshKeygenFingerprint(`${rsa.privateKeyPath}.pub`));
    expect(keyTypeOfBlob(blob(rsa.publicKey))).toBe("ssh-rsa");
    expect(keyTypeOfBlob(new Uint8Array([0, 0]))).toBe("unknown");
  });

  it("names hosts as OpenSSH does", () => {
    expect(knownHostsName("10.0.0.5", 22)).toBe("10.0.0.5");
    expect(knownHostsName("10.0.0.5", 2222)).toBe("[10.0.0.5]:2222");
    expect(knownHostsName("::1", 2222)).toBe("[::1]:2222");
  });

  it("matches patterns, negation, wildcards and case like OpenSSH", () => {
    expect(hostFieldMatches("a.example,b.example", "B.EXAMPLE")).toBe(true);
    expect(hostFieldMatches("*.example,!bad.example", "bad.example")).toBe(false);
    expect(hostFieldMatches("*.example,!bad.example", "good.example")).toBe(true);
    expect(hostFieldMatches("10.0.0.?", "10.0.0.7")).toBe(true);
    expect(hostFieldMatches("10.0.0.?", "10.0.0.17")).toBe(false);
    expect(hostFieldMatches("[10.0.0.5]:2222", "[10.0.0.5]:2222")).toBe(true);
    expect(hostFieldMatches("10.0.0.5", "[10.0.0.5]:2222")).toBe(false);
    expect(hostFieldMatches("a+b.example", "aab.example")).toBe(false);
  });

  it("agrees with ssh-keygen -H / -F on hashed entries, for any host name and port", () => {
    const names = ["10.1.2.3", "[10.1.2.3]:2222", "lab.example", "[::1]:22022"];
    const file = join(dir, "hashed");
    writeFileSync(file, names.map((n) => `${n} ${ed.publicKey.split(" ").slice(0, 2).join(" ")}`).join("\n") + "\n");
    execFileSync("ssh-keygen", ["-H", "-f", file], { stdio: "ignore" });
    const entries = parseKnownHosts(readFileSync(file, "utf8"));
    expect(entries).toHaveLength(4);
    for (const e of entries) expect(e.hosts).toMatch(/^\|1\|[^|]+\|[^|]+$/);
    for (const n of names) {
      expect(checkHostKey(entries, n, blob(ed.publicKey)).status).toBe("known");
      // OpenSSH's own lookup finds the same entry
      const host = n.startsWith("[") ? n.slice(1, n.lastIndexOf("]")) : n;
      const port = n.startsWith("[") ? n.slice(n.lastIndexOf(":") + 1) : "22";
      const out = execFileSync("ssh-keygen", ["-F", port === "22" ? host : `[${host}]:${port}`, "-f", file], {
        encoding: "utf8",
      });
      expect(out).toContain("found");
    }
    expect(checkHostKey(entries, "10.1.2.4", blob(ed.publicKey)).status).toBe("unknown");
    fc.assert(
      fc.property(fc.domain(), fc.integer({ min: 1, max: 65535 }), (h, p) => {
        const name = knownHostsName(h, p);
        if (names.includes(name)) return;
        expect(checkHostKey(entries, name, blob(ed.publicKey)).status).toBe("unknown");
      }),
      { numRuns: 200 },
    );
  });

  it("decides known / changed / unknown / revoked, ignores @cert-authority and junk lines", () => {
    const text = [
      "# comment",
      "",
      "garbage",
      `@cert-authority *.example ${other.publicKey}`,
      `lab,10.0.0.5 ${ed.publicKey}`,
      `[lab]:2222 ${rsa.publicKey}`,
      `@revoked * ${other.publicKey}`,
      `@weird lab ${other.publicKey}`,
      "lab ssh-ed25519 not*base64",
    ].join("\r\n");
    const entries = parseKnownHosts(text);
    expect(entries.map((e) => [e.line, e.marker ?? "", e.keyType])).toEqual([
      [4, "cert-authority", "ssh-ed25519"],
      [5, "", "ssh-ed25519"],
      [6, "", "ssh-rsa"],
      [7, "revoked", "ssh-ed25519"],
    ]);
    expect(checkHostKey(entries, "lab", blob(ed.publicKey)).status).toBe("known");
    const changed = checkHostKey(entries, "10.0.0.5", blob(makeKeyPair(dir, `x${Date.now()}`).publicKey));
    expect(changed).toMatchObject({ status: "changed", entry: { line: 5 } });
    expect(checkHostKey(entries, "lab", blob(other.publicKey)).status).toBe("revoked");
    expect(checkHostKey(entries, "[lab]:2222", blob(ed.publicKey))).toEqual({ status: "unknown", otherTypes: ["ssh-rsa"] });
    expect(checkHostKey(entries, "x.example", blob(ed.publicKey)).status).toBe("unknown");
    expect(knownKeyTypes(entries, "[lab]:2222")).toEqual(["ssh-rsa"]);
  });

  it("asks the server for the recorded key type first", () => {
    expect(hostKeyAlgorithmOrder([]).slice(0, 1)).toEqual(["ssh-ed25519"]);
    expect(hostKeyAlgorithmOrder(["ssh-rsa"]).slice(0, 4)).toEqual(["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa", "ssh-ed25519"]);
    expect(hostKeyAlgorithmOrder(["ecdsa-sha2-nistp256", "bogus"])[0]).toBe("ecdsa-sha2-nistp256");
    expect(new Set(hostKeyAlgorithmOrder(["ssh-rsa"])).size).toBe(7);
  });

  it("appends lines ssh-keygen -F can find, creating the file 0600 and fixing a missing final newline", async () => {
    const file = join(dir, "sub", "known_hosts");
    await appendKnownHost(file, "[127.0.0.1]:2222", blob(ed.publicKey));
    expect((await import("node:fs")).statSync(file).mode & 0o777).toBe(0o600);
    writeFileSync(file, readFileSync(file, "utf8").trimEnd()); // drop the final newline
    await appendKnownHost(file, "lab", blob(rsa.publicKey));
    const entries = await readKnownHosts(file);
    expect(entries.map((e) => [e.line, e.hosts])).toEqual([
      [1, "[127.0.0.1]:2222"],
      [2, "lab"],
    ]);
    expect(execFileSync("ssh-keygen", ["-F", "[127.0.0.1]:2222", "-f", file], { encoding: "utf8" })).toContain("found");
    expect(await readKnownHosts(join(dir, "does-not-exist"))).toEqual([]);
  });
});
