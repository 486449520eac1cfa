/**
 * KDNET keys. Format (Microsoft "Setting Up KDNET Network Kernel Debugging Automatically" and BCDEdit
 * /dbgsettings): four dot-separated parts of base-36 digits [0-9a-z], each a u64 (<= 13 chars).
 * The 32-byte control key is the four parts as little-endian u64; the HMAC key is its bytewise NOT
 * (radare2's iob_net_open reads each part as a little-endian u64, confirmed by the AeroCTF 2021 notes; checked against test/fixtures/kdnet/key-vectors.json).
 *
 * Lives in core (not host/) because both the host side (generate, store) and the engine (crypto) need it.
 */
import { webcrypto } from "node:crypto";
import { netdbgError } from "./error.js";

const U64_MAX = (1n << 64n) - 1n;
const PART = /^[0-9a-z]{1,13}$/;

export interface KdnetKey {
  /** Canonical lower-case text form a.b.c.d. */
  text: string;
  parts: readonly [bigint, bigint, bigint, bigint];
}

function parsePart(raw: string, index: number): bigint {
  const p = raw.toLowerCase();
  if (p.length === 0) throw netdbgError("E008", { problem: `part ${index + 1} is empty` });
  if (!PART.test(p)) {
    if (p.length > 13) {
      throw netdbgError("E008", { problem: `part ${index + 1} has ${p.length} characters; at most 13 are allowed` });
    }
    // the position only: the key itself (even a mistyped one) is never echoed
    const at = [...p].findIndex((c) => !/[0-9a-z]/.test(c)) + 1;
    throw netdbgError("E008", {
      problem: `character ${at} of part ${index + 1} is not a base-36 digit (0-9, a-z)`,
    });
  }
  let v = 0n;
  for (const c of p) v = v * 36n + BigInt(Number.parseInt(c, 36));
  if (v > U64_MAX) {
    throw netdbgError("E008", { problem: `part ${index + 1} is 2^64 or more` });
  }
  return v;
}

/** Parse a key case-insensitively; surrounding white space is ignored. Errors name the part at fault. */
export function parseKdnetKey(input: string): KdnetKey {
  const trimmed = input.trim();
  const raw = trimmed.split(".");
  if (raw.length !== 4) {
    throw netdbgError("E008", {
      problem: `it has ${raw.length} part${raw.length === 1 ? "" : "s"} separated by '.', but a key has exactly 4`,
    });
  }
  const parts = raw.map(parsePart) as [bigint, bigint, bigint, bigint];
  return { text: formatKdnetKey(parts), parts };
}

export function formatKdnetKey(parts: readonly bigint[]): string {
  return parts.map((p) => p.toString(36)).join(".");
}

/** A fresh key from the CSPRNG: four uniformly random u64 values. */
export function generateKdnetKey(): KdnetKey {
  const bytes = new Uint8Array(32);
  webcrypto.getRandomValues(bytes);
  const view = new DataView(bytes.buffer);
  const parts = [0, 8, 16, 24].map((o) => view.getBigUint64(o, true)) as unknown as [bigint, bigint, bigint, bigint];
  return { text: formatKdnetKey(parts), parts };
}

/** The 32-byte control (AES-256) key: each part as a little-endian u64. */
export function kdnetControlKey(key: KdnetKey): Uint8Array {
  const out = new Uint8Array(32);
  const view = new DataView(out.buffer);
  key.parts.forEach((p, i) => {
    view.setBigUint64(i * 8, p, true);
  });
  return out;
}

/** The HMAC-SHA256 key: bytewise NOT of a 32-byte key. */
export function kdnetHmacKey(key32: Uint8Array): Uint8Array {
  return key32.map((b) => ~b & 0xff);
}
