/**
 * The datagram-from-target commands: the POSIX one really runs here (sh → bash /dev/udp → a loopback listener),
 * with payloads that try to break out of the quoting; the PowerShell one is checked for quoting by property.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
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

  it("falls back to python3 where there is no bash, and says so (exit 127) where there is neither", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nd-doctor-nobash-"));
    try {
      // a PATH with sh, sleep and (second run) python3, but no bash
      for (const tool of ["sh", "sleep"])
        symlinkSync(execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim(), join(dir, tool));
      const sh = join(dir, "sh");
      const none = spawnSync(sh, ["-c", udpSendShell("x", "127.0.0.1", 9)], { env: { PATH: dir }, encoding: "utf8" });
      expect(none.status).toBe(127);
      expect(none.stderr).toContain("neither bash nor python3");
      const python = ["/usr/bin/python3", "/usr/local/bin/python3"].find((p) => existsSync(p));
      if (!python) throw new Error("this test needs python3: apt-get install python3");
      symlinkSync(python, join(dir, "python3"));
      const got = await receiveWhile((port) => {
        const r = spawnSync(sh, ["-c", udpSendShell("it's $(here)", "127.0.0.1", port)], {
          env: { PATH: dir },
          encoding: "utf8",
        });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toContain("via=python3");
      });
      expect(new Set(got)).toEqual(new Set(["it's $(here)"]));
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
        expect(line).toMatch(
          /^powershell\.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand [A-Za-z0-9+/=]+$/,
        );
        expect(Buffer.from(line.split(" ").pop()!, "base64").toString("utf16le")).toBe(script);
      }),
    );
  });
});
