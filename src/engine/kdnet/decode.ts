/**
 * Decode a KDNET capture: one record per KDNET datagram (control and data channel, authenticated or not) plus a
 * summary. Pure over the UDP records from capture.ts. Checked against both fixtures in shared/fixtures/kdnet/.
 */
import type { KdnetKey } from "../../core/kdnet-key.js";
import { kdnetControlKey, kdnetHmacKey } from "../../core/kdnet-key.js";
import { deriveDataKey, isPoke, isResponse, parsePoke, responseNonce } from "./control.js";
import type { UdpRecord } from "./capture.js";
import { CHANNEL_CONTROL, type Direction, isKdnet, type KdnetKeys, openDatagram } from "./datagram.js";
import {
  apiName,
  BREAKIN_BYTE,
  MEMORY_APIS,
  PACKET_TYPE_NAMES,
  PacketType,
  parseDebugIo,
  parseFileIo,
  parseKdPacket,
  parseManipulate,
  parseStateChange,
} from "./kd.js";

export interface DecodedKd {
  type: number;
  typeName: string;
  id: number;
  byteCount: number;
  checksumOk: boolean;
  api?: string;
  apiNumber?: number;
  status?: number;
  address?: string;
  length?: number;
  actual?: number;
  text?: string;
  state?: string;
  path?: string;
}

export interface DecodedDatagram {
  frame: number;
  time: number;
  src: string;
  dst: string;
  version: number;
  channel: "data" | "control";
  seq: number | null;
  direction: Direction;
  authenticated: boolean;
  /** Why a datagram was not authenticated: "no-data-key" (data key unknown) or "bad-tag" (wrong key / corrupt). */
  reason?: string;
  /** Same bytes, same endpoints as the previous KDNET datagram within 1 ms (capture taken twice). */
  duplicate?: boolean;
  size: number;
  control?: { kind: "poke" | "response" | "other"; nonce?: string; dataKeyDerived?: boolean };
  kd?: DecodedKd;
  breakIn?: boolean;
}

export interface DecodeSummary {
  datagrams: number;
  authenticated: number;
  failed: number;
  kdPackets: number;
  kdChecksumOk: number;
  duplicates: number;
  /** Data-channel datagrams that could not be decrypted because the capture lacks the Response that keys them. */
  undecryptableData: number;
  versions: number[];
  notes: string[];
}

const ep = (a: string, p: number) => (a.includes(":") ? `[${a}]:${p}` : `${a}:${p}`);

function decodeKd(body: Buffer): { kd?: DecodedKd; breakIn?: boolean } {
  if (body.length === 1 && body[0] === BREAKIN_BYTE) return { breakIn: true };
  const p = parseKdPacket(body);
  if (!p) return {};
  const kd: DecodedKd = {
    type: p.type,
    typeName: PACKET_TYPE_NAMES[p.type] ?? `TYPE_${p.type}`,
    id: p.id,
    byteCount: p.byteCount,
    checksumOk: p.checksumOk,
  };
  if (!p.complete) return { kd };
  if (p.type === PacketType.StateManipulate) {
    const m = parseManipulate(p.data);
    if (m) {
      kd.apiNumber = m.api;
      const name = apiName(m.api);
      if (name) kd.api = name;
      kd.status = m.status;
      if (MEMORY_APIS.has(m.api)) {
        kd.address = `0x${m.union.readBigUInt64LE(0).toString(16)}`;
        kd.length = m.union.readUInt32LE(8);
        kd.actual = m.union.readUInt32LE(12);
      }
    }
  } else if (p.type === PacketType.StateChange64) {
    const s = parseStateChange(p.data);
    if (s) {
      kd.api =
        s.kind === "exception" ? "Exception" : s.kind === "load-symbols" ? "LoadSymbols" : (apiName(s.newState) ?? "StateChange");
      if (s.kind === "exception") {
        kd.state = `exception 0x${s.code.toString(16)} at 0x${s.address.toString(16)}`;
        kd.address = `0x${s.address.toString(16)}`;
      } else if (s.kind === "load-symbols") {
        kd.state = `${s.unload ? "unload" : "load"} ${s.path} at 0x${s.base.toString(16)}`;
        kd.path = s.path;
        kd.address = `0x${s.base.toString(16)}`;
      }
    }
  } else if (p.type === PacketType.DebugIo) {
    const d = parseDebugIo(p.data);
    if (d) {
      kd.api = d.kind === "print" ? "PrintString" : "GetString";
      kd.text = d.kind === "print" ? d.text : d.prompt;
    }
  } else if (p.type === PacketType.FileIo) {
    const f = parseFileIo(p.data);
    if (f) {
      const name = apiName(f.api);
      if (name) kd.api = name;
      kd.apiNumber = f.api;
      kd.status = f.status;
      if (f.path !== undefined) kd.path = f.path;
    }
  }
  return { kd };
}

/** Decode every KDNET datagram of a capture with one key. */
export function decodeCapture(
  records: readonly UdpRecord[],
  key: KdnetKey,
): { datagrams: DecodedDatagram[]; summary: DecodeSummary } {
  const control = kdnetControlKey(key);
  const keys: KdnetKeys = { control, hmac: kdnetHmacKey(control) };
  const out: DecodedDatagram[] = [];
  const targets = new Set<string>();
  const versions = new Set<number>();
  let prev: UdpRecord | undefined;
  const summary: DecodeSummary = {
    datagrams: 0,
    authenticated: 0,
    failed: 0,
    kdPackets: 0,
    kdChecksumOk: 0,
    duplicates: 0,
    undecryptableData: 0,
    versions: [],
    notes: [],
  };
  let badTags = 0;
  let sawResponse = false;
  for (const r of records) {
    if (!isKdnet(r.payload)) continue;
    summary.datagrams++;
    const src = ep(r.src, r.srcPort);
    const dst = ep(r.dst, r.dstPort);
    const duplicate =
      prev !== undefined &&
      prev.src === r.src &&
      prev.srcPort === r.srcPort &&
      prev.dst === r.dst &&
      prev.dstPort === r.dstPort &&
      Math.abs(r.time - prev.time) < 0.001 &&
      prev.payload.equals(r.payload);
    prev = r;
    if (duplicate) summary.duplicates++;
    const version = r.payload[4]!;
    versions.add(version);
    const channel = r.payload[5] === CHANNEL_CONTROL ? "control" : "data";
    const res = openDatagram(r.payload, keys);
    // Direction of an undecryptable datagram: inferred from who sent the pokes (the target).
    const guess: Direction = targets.has(src) ? "target-to-host" : targets.has(dst) ? "host-to-target" : "target-to-host";
    const rec: DecodedDatagram = {
      frame: r.frame,
      time: r.time,
      src,
      dst,
      version,
      channel,
      seq: null,
      direction: guess,
      authenticated: res.ok,
      size: r.payload.length,
    };
    if (duplicate) rec.duplicate = true;
    if (!res.ok) {
      summary.failed++;
      rec.reason = res.reason;
      if (res.reason === "no-data-key") summary.undecryptableData++;
      if (res.reason === "bad-tag") badTags++;
      out.push(rec);
      continue;
    }
    summary.authenticated++;
    const d = res.datagram;
    rec.seq = d.seq;
    rec.direction = d.direction;
    if (d.channel === CHANNEL_CONTROL) {
      if (isPoke(d.body)) {
        targets.add(src);
        const poke = parsePoke(d.body);
        rec.control = poke ? { kind: "poke", nonce: poke.nonce.toString("hex") } : { kind: "poke" };
      } else if (isResponse(d.body)) {
        targets.add(dst);
        keys.data = deriveDataKey(control, d.body);
        sawResponse = true;
        const n = responseNonce(d.body);
        rec.control = n
          ? { kind: "response", nonce: n.toString("hex"), dataKeyDerived: true }
          : { kind: "response", dataKeyDerived: true };
      } else {
        rec.control = { kind: "other" };
      }
    } else {
      const { kd, breakIn } = decodeKd(d.body);
      if (breakIn) rec.breakIn = true;
      if (kd) {
        rec.kd = kd;
        summary.kdPackets++;
        if (kd.checksumOk) summary.kdChecksumOk++;
      }
    }
    out.push(rec);
  }
  summary.versions = [...versions].sort((a, b) => a - b);
  if (summary.duplicates > 0)
    summary.notes.push(
      `${summary.duplicates} datagram(s) appear twice in the capture (captured on two interfaces or twice); each copy is listed`,
    );
  if (summary.undecryptableData > 0) {
    summary.notes.push(
      sawResponse
        ? `${summary.undecryptableData} data-channel datagram(s) came before the Response that keys the data channel, so they cannot be decrypted`
        : `${summary.undecryptableData} data-channel datagram(s) cannot be decrypted: the capture starts after the session's handshake, so the data key (derived from the host's Response) is unknown; only the control channel is checked`,
    );
  }
  if (badTags > 0) summary.notes.push(`${badTags} datagram(s) failed authentication: wrong key, or corrupted`);
  return { datagrams: out, summary };
}

/** One human line per datagram. */
export function formatDatagramLine(d: DecodedDatagram, t0: number): string {
  const arrow = d.direction === "host-to-target" ? "H→T" : "T→H";
  const head = `#${d.frame} +${(d.time - t0).toFixed(6)} ${d.src} → ${d.dst} v${d.version} ${d.channel} ${arrow}${d.seq === null ? "" : ` seq ${d.seq}`}${d.duplicate ? " (duplicate)" : ""}`;
  if (!d.authenticated)
    return `${head} NOT AUTHENTICATED (${d.reason === "no-data-key" ? "no data key in this capture" : d.reason})`;
  if (d.control) return `${head} ${d.control.kind}${d.control.dataKeyDerived ? " → data key derived" : ""}`;
  if (d.breakIn) return `${head} break-in`;
  if (!d.kd) return `${head} (not a KD packet, ${d.size} bytes)`;
  const k = d.kd;
  let s = `${head} ${k.typeName} id 0x${k.id.toString(16)} ${k.byteCount} B checksum ${k.checksumOk ? "ok" : "BAD"}`;
  if (k.api) s += ` ${k.api}`;
  if (k.status !== undefined && k.type === PacketType.StateManipulate) s += ` status 0x${k.status.toString(16)}`;
  if (k.address !== undefined && k.length !== undefined) s += ` ${k.address} len ${k.length}`;
  if (k.state) s += ` ${k.state}`;
  if (k.path !== undefined && !k.state) s += ` ${k.path}`;
  if (k.text !== undefined) s += ` ${JSON.stringify(k.text)}`;
  return s;
}

export function formatSummary(s: DecodeSummary): string[] {
  return [
    `${s.datagrams} KDNET datagrams (protocol version ${s.versions.join(", ") || "?"}): ${s.authenticated} authenticated, ${s.failed} not; ${s.kdPackets} KD packets, ${s.kdChecksumOk} with good checksums`,
    ...s.notes.map((n) => `note: ${n}`),
  ];
}
