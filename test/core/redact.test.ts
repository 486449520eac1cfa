/** Secrets never shown, in any encoding netdbg produces; redacted forms show no part of the key. */
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { psEncodedCommand } from "../../src/core/quote.js";
import { displayCommand, redactSecret, redactText, secretSpellings } from "../../src/core/redact.js";

const KEY = "2steg4fzbj2sz.23418vzkd4ko3.1g34ou07z4pev.1sp3yo9yz874p";

describe("redactSecret", () => {
  it("shows a fingerprint (SHA-256 prefix), no character of the key", () => {
    const r = redactSecret(KEY);
    expect(r).toBe(`<redacted:${createHash("sha256").update(KEY).digest("hex").slice(0, 8)}>`);
    expect(r).not.toContain(KEY.slice(0, 4));
  });
});

describe("redactText", () => {
  it("removes the key as it is, upper and lower case, and in hex", () => {
    const hex = Buffer.from(KEY).toString("hex");
    const text = `a ${KEY} b ${KEY.toUpperCase()} c ${hex} d ${hex.toUpperCase()}`;
    const out = redactText(text, [KEY]);
    for (const f of [KEY, KEY.toUpperCase(), hex, hex.toUpperCase()]) expect(out).not.toContain(f);
    expect(out.match(/<redacted:/g)).toHaveLength(4);
  });

  it("removes it from base64 of UTF-8 and UTF-16LE at any position in a longer payload (powershell -EncodedCommand)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), fc.boolean(), (before, after, wide) => {
        const script = `${before}bcdedit.exe /dbgsettings net hostip:10.0.0.1 port:50000 key:${KEY}${after}`;
        const b64 = Buffer.from(script, wide ? "utf16le" : "utf8").toString("base64");
        const out = redactText(`powershell.exe -EncodedCommand ${b64}`, [KEY]);
        const decoded = Buffer.from(out.replace(/<redacted:[0-9a-f]{8}>/g, "A"), "base64").toString(wide ? "utf16le" : "utf8");
        return !decoded.includes(KEY) && out.includes("<redacted:");
      }),
      { numRuns: 300, seed: 1203 },
    );
    expect(psEncodedCommand(`x ${KEY}`)).toBeTruthy();
  });

  it("every spelling it removes is at least 8 characters (no short, common fragment)", () => {
    for (const s of secretSpellings(KEY)) expect(s.length).toBeGreaterThanOrEqual(8);
  });
});

describe("displayCommand", () => {
  it("leaves an encoded PowerShell payload out of what logs and errors show", () => {
    const cmd = `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ${psEncodedCommand(`key:${KEY}`)}`;
    const shown = displayCommand(cmd);
    expect(shown).toContain("powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand <");
    expect(shown).toContain("characters of base64: an encoded script, not shown>");
    expect(shown).not.toMatch(/[A-Za-z0-9+/]{20,}/);
    expect(displayCommand("uname -r")).toBe("uname -r");
  });
});
