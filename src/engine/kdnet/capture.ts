/**
 * A small reader for packet captures: classic pcap (µs and ns, both byte orders) and pcapng (SHB/IDB/EPB/SPB/PB),
 * optionally gzip-compressed; it extracts UDP datagrams over Ethernet (with VLAN tags), raw IP, Linux cooked
 * (SLL/SLL2) and BSD loopback link types, IPv4 and IPv6.
 *
 * Formats: pcap — the libpcap file format (IETF draft-ietf-opsawg-pcap); pcapng — draft-ietf-opsawg-pcapng.
 * Checked against test/fixtures/kdnet/aeroctf2021-kek.pcap (pcap, Ethernet) and windbg-uncut.pcapng.gz (pcapng).
 */
import { gunzipSync } from "node:zlib";

export interface UdpRecord {
  /** 1-based frame number in the capture (every packet record counts, UDP or not). */
  frame: number;
  /** Seconds since the epoch (fractional). */
  time: number;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  payload: Buffer;
}

export class CaptureFormatError extends Error {}

const LINK_NULL = 0;
const LINK_ETHERNET = 1;
const LINK_RAW = 101;
const LINK_RAW_ALT = 12;
const LINK_IPV4 = 228;
const LINK_IPV6 = 229;
const LINK_SLL = 113;
const LINK_SLL2 = 276;
const LINK_LOOP = 108;

/** Decompress if gzip (magic 1f 8b), whatever the file name says. */
export function maybeGunzip(buf: Buffer): Buffer {
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) return gunzipSync(buf);
  return buf;
}

function ipv4(b: Buffer, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}
function ipv6(b: Buffer, o: number): string {
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(b.readUInt16BE(o + i).toString(16));
  return g.join(":");
}

/** Parse an IP packet; returns the UDP part or undefined. */
function udpFromIp(b: Buffer, o: number): Omit<UdpRecord, "frame" | "time"> | undefined {
  if (o >= b.length) return undefined;
  const ver = b[o]! >> 4;
  if (ver === 4) {
    if (o + 20 > b.length) return undefined;
    const ihl = (b[o]! & 0x0f) * 4;
    if (ihl < 20) return undefined;
    if (b[o + 9] !== 17) return undefined;
    const fragOff = b.readUInt16BE(o + 6) & 0x1fff;
    if (fragOff !== 0) return undefined;
    const total = b.readUInt16BE(o + 2);
    const u = o + ihl;
    if (u + 8 > b.length) return undefined;
    const ulen = b.readUInt16BE(u + 4);
    const end = Math.min(b.length, u + Math.max(8, ulen), total > 0 ? o + total : b.length);
    return {
      src: ipv4(b, o + 12),
      dst: ipv4(b, o + 16),
      srcPort: b.readUInt16BE(u),
      dstPort: b.readUInt16BE(u + 2),
      payload: b.subarray(u + 8, Math.max(u + 8, end)),
    };
  }
  if (ver === 6) {
    if (o + 40 > b.length) return undefined;
    let next = b[o + 6]!;
    let u = o + 40;
    // skip hop-by-hop, routing, destination options
    for (let i = 0; i < 8 && (next === 0 || next === 43 || next === 60); i++) {
      if (u + 8 > b.length) return undefined;
      next = b[u]!;
      u += (b[u + 1]! + 1) * 8;
    }
    if (next !== 17 || u + 8 > b.length) return undefined;
    const ulen = b.readUInt16BE(u + 4);
    const end = Math.min(b.length, u + Math.max(8, ulen));
    return {
      src: ipv6(b, o + 8),
      dst: ipv6(b, o + 24),
      srcPort: b.readUInt16BE(u),
      dstPort: b.readUInt16BE(u + 2),
      payload: b.subarray(u + 8, Math.max(u + 8, end)),
    };
  }
  return undefined;
}

function udpFromLink(link: number, b: Buffer): Omit<UdpRecord, "frame" | "time"> | undefined {
  switch (link) {
    case LINK_ETHERNET: {
      let o = 12;
      if (o + 2 > b.length) return undefined;
      let type = b.readUInt16BE(o);
      while ((type === 0x8100 || type === 0x88a8) && o + 6 <= b.length) {
        o += 4;
        type = b.readUInt16BE(o);
      }
      if (type !== 0x0800 && type !== 0x86dd) return undefined;
      return udpFromIp(b, o + 2);
    }
    case LINK_RAW:
    case LINK_RAW_ALT:
    case LINK_IPV4:
    case LINK_IPV6:
      return udpFromIp(b, 0);
    case LINK_SLL:
      return udpFromIp(b, 16);
    case LINK_SLL2:
      return udpFromIp(b, 20);
    case LINK_NULL:
    case LINK_LOOP:
      return udpFromIp(b, 4);
    default:
      return undefined;
  }
}

function readPcap(buf: Buffer): UdpRecord[] {
  if (buf.length < 24) throw new CaptureFormatError("the pcap file header is truncated");
  const m = buf.readUInt32LE(0);
  let le: boolean;
  let nano: boolean;
  if (m === 0xa1b2c3d4 || m === 0xa1b23c4d) {
    le = true;
    nano = m === 0xa1b23c4d;
  } else {
    const mb = buf.readUInt32BE(0);
    if (mb !== 0xa1b2c3d4 && mb !== 0xa1b23c4d) throw new CaptureFormatError("not a pcap file");
    le = false;
    nano = mb === 0xa1b23c4d;
  }
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const link = u32(20) & 0x0fffffff;
  const out: UdpRecord[] = [];
  let o = 24;
  let frame = 0;
  while (o + 16 <= buf.length) {
    const sec = u32(o);
    const frac = u32(o + 4);
    const incl = u32(o + 8);
    o += 16;
    if (o + incl > buf.length) break; // truncated last record
    frame++;
    const u = udpFromLink(link, buf.subarray(o, o + incl));
    if (u) out.push({ frame, time: sec + frac / (nano ? 1e9 : 1e6), ...u });
    o += incl;
  }
  return out;
}

function readPcapng(buf: Buffer): UdpRecord[] {
  const out: UdpRecord[] = [];
  let le = true;
  let ifaces: { link: number; tsres: number }[] = [];
  let o = 0;
  let frame = 0;
  while (o + 12 <= buf.length) {
    const typeLE = buf.readUInt32LE(o);
    if (typeLE === 0x0a0d0d0a) {
      const bom = buf.readUInt32LE(o + 8);
      if (bom === 0x1a2b3c4d) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else throw new CaptureFormatError("bad pcapng byte-order magic");
      ifaces = [];
    }
    const u32 = (p: number) => (le ? buf.readUInt32LE(p) : buf.readUInt32BE(p));
    const u16 = (p: number) => (le ? buf.readUInt16LE(p) : buf.readUInt16BE(p));
    const type = u32(o);
    const len = u32(o + 4);
    if (len < 12 || len % 4 !== 0 || o + len > buf.length) break;
    const body = o + 8;
    const bodyEnd = o + len - 4;
    if (type === 1 && body + 8 <= bodyEnd) {
      // Interface Description Block; option if_tsresol (9)
      let tsres = 1e-6;
      let p = body + 8;
      while (p + 4 <= bodyEnd) {
        const code = u16(p);
        const olen = u16(p + 2);
        if (code === 0) break;
        if (code === 9 && olen >= 1) {
          const v = buf[p + 4]!;
          tsres = v & 0x80 ? 2 ** -(v & 0x7f) : 10 ** -(v & 0x7f);
        }
        p += 4 + ((olen + 3) & ~3);
      }
      ifaces.push({ link: u16(body), tsres });
    } else if ((type === 6 || type === 2) && body + 20 <= bodyEnd) {
      frame++;
      const ifId = type === 6 ? u32(body) : u16(body);
      const hi = u32(body + 4);
      const lo = u32(body + 8);
      const cap = u32(body + 12);
      const data = buf.subarray(body + 20, Math.min(bodyEnd, body + 20 + cap));
      const iface = ifaces[ifId];
      if (iface) {
        const u = udpFromLink(iface.link, data);
        if (u) out.push({ frame, time: (hi * 2 ** 32 + lo) * iface.tsres, ...u });
      }
    } else if (type === 3 && body + 4 <= bodyEnd) {
      frame++;
      const orig = u32(body);
      const data = buf.subarray(body + 4, Math.min(bodyEnd, body + 4 + orig));
      const iface = ifaces[0];
      if (iface) {
        const u = udpFromLink(iface.link, data);
        if (u) out.push({ frame, time: 0, ...u });
      }
    }
    o += len;
  }
  return out;
}

/** Read every UDP datagram from a capture file's bytes (pcap or pcapng, gzip or not). */
export function readUdpCapture(raw: Buffer): UdpRecord[] {
  const buf = maybeGunzip(raw);
  if (buf.length >= 4 && buf.readUInt32LE(0) === 0x0a0d0d0a) return readPcapng(buf);
  return readPcap(buf);
}
