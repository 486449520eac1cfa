/**
 * KDNET control channel: the target's Poke and the host's Response, and the data key.
 * Layouts from radare2's shlr/winkd/iob_net.c (poke / response) and Lekensteyn/kdnet's kdnet.lua, checked against CAP1 (test/fixtures/kdnet/windbg-uncut.pcapng.gz frames 1–2: poke body 344
 * bytes, WinDbg's response body 322 bytes, data key derived from it decrypts every data datagram) and CAP2 (aeroctf2021-kek.pcap: v5 pokes).
 *
 * Poke body (344): 0x01, 0x01, nonce[32], targetAddr[16], targetPort BE u16, hostAddr[16], hostPort BE u16,
 *                  peerAddr[16], peerPort BE u16, zeros[256]
 * Response body (322): 0x01, 0x02, poke nonce[32] verbatim, host random[32], zeros[256]
 * dataKey = SHA-256(controlKey ‖ response body)
 */
import { createHash, randomBytes } from "node:crypto";

export const CONTROL_VERSION = 1;
export const CONTROL_POKE = 1;
export const CONTROL_RESPONSE = 2;
export const POKE_LEN = 344;
export const RESPONSE_LEN = 322;

export interface Poke {
  nonce: Buffer;
  targetAddress: string;
  targetPort: number;
  hostAddress: string;
  hostPort: number;
  peerAddress: string;
  peerPort: number;
}

/** Format a 16-byte address: IPv4-mapped as dotted quad, all-zero as "", else IPv6 hex groups. */
export function formatAddress16(b: Uint8Array): string {
  if (b.length !== 16) return "";
  if (b.every((x) => x === 0)) return "";
  const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  if (mapped) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return groups.join(":");
}

/** Encode an address as 16 bytes (IPv4 → ::ffff:a.b.c.d). Only dotted IPv4 and full/compressed IPv6 are accepted. */
export function encodeAddress16(addr: string): Buffer {
  const out = Buffer.alloc(16);
  if (addr === "") return out;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
  if (v4) {
    out[10] = 0xff;
    out[11] = 0xff;
    for (let i = 0; i < 4; i++) out[12 + i] = Number(v4[i + 1]) & 0xff;
    return out;
  }
  const [head = "", tail] = addr.split("::");
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  groups.slice(0, 8).forEach((g, i) => {
    out.writeUInt16BE(Number.parseInt(g, 16) & 0xffff, i * 2);
  });
  return out;
}

export function isPoke(body: Uint8Array): boolean {
  return body.length >= 2 && body[0] === CONTROL_VERSION && body[1] === CONTROL_POKE;
}
export function isResponse(body: Uint8Array): boolean {
  return body.length >= 2 && body[0] === CONTROL_VERSION && body[1] === CONTROL_RESPONSE;
}

/** Parse a poke body; undefined when it is not a complete poke. */
export function parsePoke(body: Uint8Array): Poke | undefined {
  if (!isPoke(body) || body.length < 88) return undefined;
  const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return {
    nonce: Buffer.from(b.subarray(2, 34)),
    targetAddress: formatAddress16(b.subarray(34, 50)),
    targetPort: b.readUInt16BE(50),
    hostAddress: formatAddress16(b.subarray(52, 68)),
    hostPort: b.readUInt16BE(68),
    peerAddress: formatAddress16(b.subarray(70, 86)),
    peerPort: b.readUInt16BE(86),
  };
}

export function buildPoke(p: Poke): Buffer {
  const b = Buffer.alloc(POKE_LEN);
  b[0] = CONTROL_VERSION;
  b[1] = CONTROL_POKE;
  p.nonce.copy(b, 2, 0, 32);
  encodeAddress16(p.targetAddress).copy(b, 34);
  b.writeUInt16BE(p.targetPort, 50);
  encodeAddress16(p.hostAddress).copy(b, 52);
  b.writeUInt16BE(p.hostPort, 68);
  encodeAddress16(p.peerAddress).copy(b, 70);
  b.writeUInt16BE(p.peerPort, 86);
  return b;
}

/** The host's Response to a poke: nonce echoed, 32 fresh random bytes (injectable for tests). */
export function buildResponse(pokeNonce: Uint8Array, hostRandom: Uint8Array = randomBytes(32)): Buffer {
  const b = Buffer.alloc(RESPONSE_LEN);
  b[0] = CONTROL_VERSION;
  b[1] = CONTROL_RESPONSE;
  b.set(pokeNonce.subarray(0, 32), 2);
  b.set(hostRandom.subarray(0, 32), 34);
  return b;
}

/** The nonce a response echoes (body[2..34)). */
export function responseNonce(body: Uint8Array): Buffer | undefined {
  if (!isResponse(body) || body.length < 66) return undefined;
  return Buffer.from(body.subarray(2, 34));
}

/** dataKey = SHA-256(controlKey ‖ response body) (R2/RZ _initializeDatakey; verified on CAP1). */
export function deriveDataKey(controlKey: Uint8Array, responseBody: Uint8Array): Buffer {
  return createHash("sha256").update(controlKey).update(responseBody).digest();
}

/**
 * The part of the nonce that stays constant for one boot of the target (bytes 2..32; bytes 0..2 are a LE u16 poke
 * counter — CAP2: 0x370b, 0x370c, …). A change means the target rebooted or kdnet restarted (inferred).
 */
export function bootIdentity(nonce: Uint8Array): string {
  return Buffer.from(nonce.subarray(2, 32)).toString("hex");
}
