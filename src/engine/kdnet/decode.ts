/**
 * Decode a KDNET capture: one record per KDNET datagram (control and data channel, authenticated or not) plus a
 * summary. Pure over the UDP records from capture.ts. Checked against both captures in test/fixtures/kdnet/ (their public sources are in its README).
 */
import type { KdnetKey } from "../../core/kdnet-key.js";
import { kdnetControlKey, kdnetHmacKey } from "../../core/kdnet-key.js";
import { deriveDataKey, isPoke, isResponse, parsePoke, responseNonce } from "./control.js";
import type { UdpRecord } from "./capture.js";
import { CHANNEL_CONTROL, type Direction, isKdnet, type KdnetKeys, openDatagram } from "./datagram.js";
import {
  apiName,
  BREAKIN_BYTE,
  LEADER_CONTROL,
  LEADER_DATA,
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
  /** "unknown": not decryptable and no poke says which endpoint is the target. */
  direction: Direction | "unknown";
  authenticated: boolean;
  /** Why a datagram was not authenticated: "no-data-key" (data key unknown) or "bad-tag" (wrong key / corrupt). */
  reason?: string;
  /** Same bytes, same endpoints as the previous KDNET datagram within 1 ms (capture taken twice). */
  duplicate?: boolean;
  size: number;
  control?: { kind: "poke" | "response" | "other"; nonce?: string; dataKeyDerived?: boolean };
  kd?: DecodedKd;
  breakIn?: boolean;
  /**
   * A data-channel body that is not a KD packet (no 0x30303030 / 0x69696969 leader). The one seen in captures is
   * the target's first data datagram after the handshake: 12 bytes, zeros, then the host's IPv4 address (hello).
   */
  nonKd?: { kind: "hello"; hostAddress: string } | { kind: "unknown"; head: string };
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
  /** Decrypted data-channel bodies that are not KD packets (the post-handshake hello, anything else). */
  nonKd: number;
  /** KD packets per type name, and per KD API (manipulate, state change, debug and file I/O). */
  packetTypes: Record<string, number>;
  apis: Record<string, number>;
  /** RESEND packets: the other side asked for a packet again (loss, or a checksum it did not like). */
  resends: number;
  /** Authenticated pokes and the median time between one target's consecutive pokes (null: fewer than two). */
  pokes: { count: number; medianIntervalSeconds: number | null };
  notes: string[];
}

const ep = (a: string, p: number) => (a.includes(":") ? `[${a}]:${p}` : `${a}:${p}`);

function decodeKd(body: Buffer): Pick<DecodedDatagram, "kd" | "breakIn" | "nonKd"> {
  if (body.length === 1 && body[0] === BREAKIN_BYTE) return { breakIn: true };
  const leader = body.length >= 4 ? body.readUInt32LE(0) : undefined;
  if (leader !== LEADER_DATA && leader !== LEADER_CONTROL) {
    // Checked against the Lekensteyn/kdnet capture pcaps/windbg-uncut.pcapng.gz frame 3 (00000000 00000000 c0a80201
    // to host 192.168.2.1); radare2's and rizin's winkd code read and discard this first data packet.
    if (body.length === 12 && body.readUInt32LE(0) === 0 && body.readUInt32LE(4) === 0) {
      const a = body.readUInt32LE(8);
      return { nonKd: { kind: "hello", hostAddress: [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join(".") } };
    }
    return { nonKd: { kind: "unknown", head: body.subarray(0, 16).toString("hex") } };
  }
  const p = parseKdPacket(body);
  if (!p) return { nonKd: { kind: "unknown", head: body.subarray(0, 16).toString("hex") } };
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
  // Without a key that opens them, who is the target? The endpoint that sends most control datagrams (pokes come
  // from the target every few seconds; the host answers one Response per session).
  const controlSenders = new Map<string, number>();
  for (const r of records) {
    if (isKdnet(r.payload) && r.payload[5] === CHANNEL_CONTROL) {
      const k = ep(r.src, r.srcPort);
      controlSenders.set(k, (controlSenders.get(k) ?? 0) + 1);
    }
  }
  const likelyTarget = [...controlSenders].sort((a, b) => b[1] - a[1])[0]?.[0];
  const pokeTimes = new Map<string, number[]>();
  let controlOk = 0;
  const summary: DecodeSummary = {
    datagrams: 0,
    authenticated: 0,
    failed: 0,
    kdPackets: 0,
    kdChecksumOk: 0,
    duplicates: 0,
    undecryptableData: 0,
    versions: [],
    nonKd: 0,
    packetTypes: {},
    apis: {},
    resends: 0,
    pokes: { count: 0, medianIntervalSeconds: null },
    notes: [],
  };
  const bump = (m: Record<string, number>, k: string) => {
    m[k] = (m[k] ?? 0) + 1;
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
    // Direction of an undecryptable datagram: inferred from who sent the authenticated pokes (the target), else
    // from who sent most control datagrams; "unknown" when the capture has none.
    const target = targets.size ? targets : new Set(likelyTarget ? [likelyTarget] : []);
    const guess: DecodedDatagram["direction"] = target.has(src)
      ? "target-to-host"
      : target.has(dst)
        ? "host-to-target"
        : "unknown";
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
      controlOk++;
      if (isPoke(d.body)) {
        targets.add(src);
        if (!duplicate) {
          summary.pokes.count++;
          pokeTimes.set(src, [...(pokeTimes.get(src) ?? []), r.time]);
        }
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
      const { kd, breakIn, nonKd } = decodeKd(d.body);
      if (breakIn) rec.breakIn = true;
      if (nonKd) {
        rec.nonKd = nonKd;
        summary.nonKd++;
      }
      if (kd) {
        rec.kd = kd;
        summary.kdPackets++;
        if (kd.checksumOk) summary.kdChecksumOk++;
        bump(summary.packetTypes, kd.typeName);
        if (kd.api) bump(summary.apis, kd.api);
        if (kd.typeName === "RESEND") summary.resends++;
      }
    }
    out.push(rec);
  }
  summary.versions = [...versions].sort((a, b) => a - b);
  const gaps = [...pokeTimes.values()].flatMap((ts) => ts.slice(1).map((t, i) => t - ts[i]!)).sort((a, b) => a - b);
  if (gaps.length) summary.pokes.medianIntervalSeconds = Number(gaps[gaps.length >> 1]!.toFixed(3));
  if (summary.duplicates > 0)
    summary.notes.push(
      `${summary.duplicates} datagram(s) appear twice in the capture (captured on two interfaces or twice); each copy is listed`,
    );
  if (summary.undecryptableData > 0) {
    summary.notes.push(
      sawResponse
        ? `${summary.undecryptableData} data-channel datagram(s) came before the Response that keys the data channel, so they cannot be decrypted`
        : controlOk === 0
          ? `${summary.undecryptableData} data-channel datagram(s) cannot be decrypted: no control datagram opens with this key, so the data key (derived from the host's Response) is unknown — the key is wrong, or the capture has no control datagram`
          : `${summary.undecryptableData} data-channel datagram(s) cannot be decrypted: the capture starts after the session's handshake, so the data key (derived from the host's Response) is unknown; only the control channel is checked`,
    );
  }
  if (badTags > 0) summary.notes.push(`${badTags} datagram(s) failed authentication: wrong key, or corrupted`);
  return { datagrams: out, summary };
}

/** One human line per datagram. */
export function formatDatagramLine(d: DecodedDatagram, t0: number): string {
  const arrow = d.direction === "host-to-target" ? "H→T" : d.direction === "target-to-host" ? "T→H" : "?→?";
  const head = `#${d.frame} +${(d.time - t0).toFixed(6)} ${d.src} → ${d.dst} v${d.version} ${d.channel} ${arrow}${d.seq === null ? "" : ` seq ${d.seq}`}${d.duplicate ? " (duplicate)" : ""}`;
  if (!d.authenticated) return `${head} NOT AUTHENTICATED (${d.reason === "no-data-key" ? "data key unknown" : d.reason})`;
  if (d.control) return `${head} ${d.control.kind}${d.control.dataKeyDerived ? " → data key derived" : ""}`;
  if (d.breakIn) return `${head} break-in`;
  if (d.nonKd?.kind === "hello") return `${head} hello (no KD packet: the host address ${d.nonKd.hostAddress})`;
  if (!d.kd) return `${head} not a KD packet (no KD leader; ${d.size} bytes${d.nonKd ? `, starts ${d.nonKd.head}` : ""})`;
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
    `${s.datagrams} KDNET datagrams (protocol version ${s.versions.join(", ") || "?"}): ${s.authenticated} authenticated, ${s.failed} not; ${s.kdPackets} KD packets, ${s.kdChecksumOk} with good checksums${s.nonKd ? `; ${s.nonKd} data datagram(s) that are not KD packets` : ""}`,
    ...s.notes.map((n) => `note: ${n}`),
  ];
}

/** The summary's counts as rows (what, count): packet types, KD APIs, resends, poke cadence; for a table. */
export function summaryRows(s: DecodeSummary): [string, string][] {
  const sorted = (m: Record<string, number>) => Object.entries(m).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return [
    ...sorted(s.packetTypes).map(([k, n]): [string, string] => [`packet ${k}`, String(n)]),
    ...sorted(s.apis).map(([k, n]): [string, string] => [`API ${k}`, String(n)]),
    ["resends (RESEND packets)", String(s.resends)],
    ["pokes (authenticated)", String(s.pokes.count)],
    ...(s.pokes.medianIntervalSeconds !== null
      ? [["seconds between pokes (median)", String(s.pokes.medianIntervalSeconds)] as [string, string]]
      : []),
    ...(s.nonKd ? [["data datagrams that are not KD packets", String(s.nonKd)] as [string, string]] : []),
  ];
}
