/**
 * The datagram-from-target commands: the POSIX one really runs here (sh → bash /dev/udp → a loopback listener),
 * with payloads that try to break out of the quoting; the PowerShell one is checked for quoting by property.
 */
import { execFileSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { psQuote } from "../../src/core/quote.js";
import { udpSendPowerShell, udpSendPowerShellScript, udpSendShell } from "../../src/doctor/probes.js";

async function receiveWhile(run: (port: number) => void): Promise<string[]> {
  const sock = createSocket("udp4");
  const got: string[] = [];
  sock.on("message", (m) => got.push(m.toString("latin1")));
  await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
  try {
    run(sock.address().port);
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    sock.close();
  }
  return got;
}

describe("udpSendShell", () => {
  it("sends the payload byte for byte through sh; hostile payloads stay data", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nd-doctor-probe-"));
    const canary = join(dir, "pwned");
    try {
      for (const payload of ["netdbg-doctor-1", `'; touch ${canary}; '`, `$(touch ${canary})`, '"`touch x`" \\ %s %n']) {
        const got = await receiveWhile((port) => {
          const out = execFileSync("sh", ["-c", udpSendShell(payload, "127.0.0.1", port)], { encoding: "utf8" });
          expect(out).toMatch(/via=(bash \/dev\/udp|python3)/);
        });
        expect(got.length).toBeGreaterThanOrEqual(1);
        expect(new Set(got)).toEqual(new Set([payload]));
      }
      expect(existsSync(canary)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a port that is not a port", () => {
    expect(() => udpSendShell("x", "127.0.0.1", 70000)).toThrow(/bad port/);
  });
});

describe("udpSendPowerShell", () => {
  it("carries payload and host only as single-quoted literals, in an -EncodedCommand line", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (payload, host) => {
        fc.pre(!payload.includes("\0") && !host.includes("\0"));
        const script = udpSendPowerShellScript(payload, host, 50000);
        expect(script).toContain(`$p = ${psQuote(payload)}; $h = ${psQuote(host)}; $o = 50000`);
        const line = udpSendPowerShell(payload, host, 50000);
        expect(line).toMatch(/^powershell\.exe -NoProfile -NonInteractive -EncodedCommand [A-Za-z0-9+/=]+$/);
        expect(Buffer.from(line.split(" ").pop()!, "base64").toString("utf16le")).toBe(script);
      }),
    );
  });
});
