/**
 * KDNET datagram layer: parse/build, AES-256-CBC with the tag as IV, HMAC-SHA256/16 over the clear header and the
 * plaintext with key = NOT(control key).
 *
 * Layout checked against radare2's shlr/winkd/iob_net.c and Lekensteyn/kdnet's kdnet.lua and both real captures in test/fixtures/kdnet/
 * (windbg-uncut.pcapng.gz: 955/955 datagrams authenticate with key 8.8.8.8; aeroctf2021-kek.pcap: pokes with 1.2.3.4).
 *
 *   off 0  4  magic "MDBG"
 *   off 4  1  protocol version (echoed by the host)
 *   off 5  1  channel: 0 data, 1 control
 *   off 6  N  AES-256-CBC(plaintext), N multiple of 16, IV = tag
 *   off 6+N 16 tag = HMAC-SHA256(hmacKey, bytes[0..6) ‖ plaintext)[0..16)
 * plaintext: BE u64 (seq << 8 | direction << 7 | pad) ‖ body ‖ pad zero bytes
 */
import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from "node:crypto";

export const CHANNEL_DATA = 0;
export const CHANNEL_CONTROL = 1;
export const HEADER_LEN = 6;
export const TAG_LEN = 16;
/** Smallest datagram: header + one AES block + tag. */
export const MIN_DATAGRAM = HEADER_LEN + 16 + TAG_LEN;

export type Direction = "host-to-target" | "target-to-host";

export interface KdnetKeys {
  /** 32-byte AES key of the control channel (from the dotted key). */
  control: Uint8Array;
  /** 32-byte HMAC key = NOT(control). */
  hmac: Uint8Array;
  /** 32-byte AES key of the data channel, once derived from a Response. */
  data?: Uint8Array | undefined;
}

export interface KdnetDatagram {
  version: number;
  channel: number;
  seq: number;
  direction: Direction;
  pad: number;
  body: Buffer;
}

export type OpenResult =
  | { ok: true; datagram: KdnetDatagram }
  | {
      ok: false;
      reason: "not-kdnet" | "bad-length" | "no-data-key" | "bad-tag" | "bad-pad";
      version?: number;
      channel?: number;
    };

/** Cheap test: does this UDP payload look like a KDNET datagram at all? */
export function isKdnet(buf: Uint8Array): boolean {
  return buf.length >= MIN_DATAGRAM && buf[0] === 0x4d && buf[1] === 0x44 && buf[2] === 0x42 && buf[3] === 0x47;
}

/** The clear 6-byte header fields, without any key. */
export function peekHeader(buf: Uint8Array): { version: number; channel: number } | undefined {
  if (!isKdnet(buf)) return undefined;
  return { version: buf[4]!, channel: buf[5]! };
}

function tagOf(hmacKey: Uint8Array, header: Uint8Array, plaintext: Uint8Array): Buffer {
  const h = createHmac("sha256", hmacKey);
  h.update(header);
  h.update(plaintext);
  return h.digest().subarray(0, TAG_LEN);
}

/** Decrypt and authenticate one UDP payload. Never throws on bad input. */
export function openDatagram(buf: Uint8Array, keys: KdnetKeys): OpenResult {
  if (!isKdnet(buf)) return { ok: false, reason: "not-kdnet" };
  const version = buf[4]!;
  const channel = buf[5]!;
  const n = buf.length - HEADER_LEN - TAG_LEN;
  if (n < 16 || n % 16 !== 0) return { ok: false, reason: "bad-length", version, channel };
  const key = channel === CHANNEL_CONTROL ? keys.control : keys.data;
  if (key === undefined) return { ok: false, reason: "no-data-key", version, channel };
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const tag = b.subarray(HEADER_LEN + n);
  const d = createDecipheriv("aes-256-cbc", key, tag);
  d.setAutoPadding(false);
  const plain = Buffer.concat([d.update(b.subarray(HEADER_LEN, HEADER_LEN + n)), d.final()]);
  const expect = tagOf(keys.hmac, b.subarray(0, HEADER_LEN), plain);
  if (!timingSafeEqual(expect, tag)) return { ok: false, reason: "bad-tag", version, channel };
  const hi = plain.readUInt32BE(0);
  const lo = plain.readUInt32BE(4);
  const pad = lo & 0x7f;
  const direction: Direction = (lo & 0x80) !== 0 ? "host-to-target" : "target-to-host";
  const seq = hi * 2 ** 24 + (lo >>> 8);
  if (8 + pad > plain.length) return { ok: false, reason: "bad-pad", version, channel };
  return { ok: true, datagram: { version, channel, seq, direction, pad, body: plain.subarray(8, plain.length - pad) } };
}

export interface SealInput {
  version: number;
  channel: number;
  seq: number;
  direction: Direction;
  body: Uint8Array;
}

/** Encrypt and tag one datagram (pad with zeros to the AES block size). */
export function sealDatagram(input: SealInput, keys: KdnetKeys): Buffer {
  const key = input.channel === CHANNEL_CONTROL ? keys.control : keys.data;
  if (key === undefined) throw new RangeError("no data key for a data-channel datagram");
  if (!Number.isSafeInteger(input.seq) || input.seq < 0) throw new RangeError(`bad sequence number ${input.seq}`);
  const pad = (16 - ((8 + input.body.length) % 16)) % 16;
  const plain = Buffer.alloc(8 + input.body.length + pad);
  plain.writeUInt32BE(Math.floor(input.seq / 2 ** 24) >>> 0, 0);
  plain.writeUInt32BE((((input.seq % 2 ** 24) << 8) | (input.direction === "host-to-target" ? 0x80 : 0) | pad) >>> 0, 4);
  plain.set(input.body, 8);
  const header = Buffer.from([0x4d, 0x44, 0x42, 0x47, input.version & 0xff, input.channel & 0xff]);
  const tag = tagOf(keys.hmac, header, plain);
  const c = createCipheriv("aes-256-cbc", key, tag);
  c.setAutoPadding(false);
  return Buffer.concat([header, c.update(plain), c.final(), tag]);
}
