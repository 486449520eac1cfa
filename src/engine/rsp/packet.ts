/**
 * GDB remote serial protocol framing: `$data#cc`, acks, escapes and run-length decoding.
 *
 * Layout checked against the GDB manual, "Overview" (Remote Protocol) and the notes in
 * the GDB manual ('Overview', 'Packet Acknowledgment', 'Interrupts') and Linux kernel/debug/gdbstub.c: checksum = sum of the data bytes mod 256 as two hex digits; `}` escapes
 * the next byte XOR 0x20; in replies `X*n` repeats X (n - 29) more times; a bare 0x03 outside a packet is
 * the interrupt. Bytes outside packets (kdb text, stray acks, duplicated fragments) are junk and skipped.
 */

export const INTERRUPT = 0x03;
const DOLLAR = 0x24;
const HASH = 0x23;
const ESC = 0x7d;
const STAR = 0x2a;
const PLUS = 0x2b;
const MINUS = 0x2d;

export function checksum(data: Uint8Array): number {
  // an indexed loop: before the JIT optimizes it (most of a first pull), `for…of` runs the iterator per byte
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i]!;
  return sum & 0xff;
}

const HEX = "0123456789abcdef";

/** Frame a packet body exactly as given (the caller escapes binary data with `escapeBinary`). */
export function framePacket(body: Uint8Array | string): Buffer {
  const data = typeof body === "string" ? Buffer.from(body, "latin1") : body;
  const out = Buffer.allocUnsafe(data.length + 4);
  out[0] = DOLLAR;
  out.set(data, 1);
  const cs = checksum(data);
  out[data.length + 1] = HASH;
  out[data.length + 2] = HEX.charCodeAt(cs >> 4);
  out[data.length + 3] = HEX.charCodeAt(cs & 15);
  return out;
}

/** Escape binary data for `X`/`vFile` packets: `#`, `$`, `}` and `*` become `}` + (byte ^ 0x20). */
export function escapeBinary(data: Uint8Array): Buffer {
  const out: number[] = [];
  for (const b of data) {
    if (b === HASH || b === DOLLAR || b === ESC || b === STAR) out.push(ESC, b ^ 0x20);
    else out.push(b);
  }
  return Buffer.from(out);
}

/**
 * Undo `}` escapes and run-length encoding of a received packet body. Never throws: a dangling escape or a
 * run count out of range is dropped (the checksum already matched, so this only happens with a broken peer).
 * Runs are bounded by the protocol (at most 97 repeats per `*`), so output is at most ~50× the input.
 */
export function decodeBody(raw: Uint8Array): Buffer {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (buf.indexOf(ESC) < 0 && buf.indexOf(STAR) < 0) return buf;
  // two passes over the input (size, then fill) into one buffer: a per-byte array grew too slowly for
  // gdbserver's run-length-encoded 16 KiB replies (most of the client's time per request went here)
  const n = raw.length;
  let size = 0;
  let have = false;
  for (let i = 0; i < n; i++) {
    const c = raw[i]!;
    if (c === ESC) {
      if (++i < n) {
        size++;
        have = true;
      }
    } else if (c === STAR && have && i + 1 < n) {
      size += runLength(raw[++i]!);
    } else {
      size++;
      have = true;
    }
  }
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const c = raw[i]!;
    if (c === ESC) {
      if (++i < n) out[o++] = raw[i]! ^ 0x20;
    } else if (c === STAR && o > 0 && i + 1 < n) {
      const k = runLength(raw[++i]!);
      out.fill(out[o - 1]!, o, o + k);
      o += k;
    } else {
      out[o++] = c;
    }
  }
  return out;
}

/** Extra copies a run-length count character stands for (0 when out of range). */
function runLength(countChar: number): number {
  const k = countChar - 29;
  return k < 0 ? 0 : Math.min(k, 100);
}

export type RspEvent =
  | { type: "ack" }
  | { type: "nak" }
  | { type: "interrupt" }
  /**
   * A packet with a good checksum; `raw` is the body as on the wire (escapes and runs not yet decoded); `cuts` the
   * offsets in `raw` where a chunk fed to the parser (a UDP datagram) ended and the next began: empty when one
   * chunk carried the whole body.
   */
  | { type: "packet"; raw: Buffer; cuts: number[] }
  /** A complete packet whose checksum did not match (answer `-`). */
  | { type: "bad-packet"; raw: Buffer }
  /** Bytes outside any packet (console/kdb text, garbage). */
  | { type: "junk"; bytes: Buffer };

export interface ParserOptions {
  /** Longest packet body accepted; longer input is dropped as junk and the parser resyncs on the next `$`. */
  maxPacket?: number;
  /** Treat a 0x03 outside a packet as an interrupt event (server side: the bridge, stubs). */
  interrupts?: boolean;
}

/**
 * Incremental parser over a byte stream: feed it whatever the transport delivered (UDP datagrams split
 * packets arbitrarily), get events. Memory is bounded by `maxPacket`. A `$` inside a packet restarts the
 * packet (resync after a lost tail), as kgdb's get_packet does.
 */
export class PacketParser {
  private state: "idle" | "body" | "cs1" | "cs2" = "idle";
  private parts: Buffer[] = [];
  private bodyLen = 0;
  /** Where chunks met inside the open packet's body (see RspEvent). */
  private cuts: number[] = [];
  private cs1 = 0;
  private junk: number[] = [];
  private readonly maxPacket: number;
  private readonly interrupts: boolean;

  constructor(options: ParserOptions = {}) {
    this.maxPacket = options.maxPacket ?? 256 * 1024;
    this.interrupts = options.interrupts ?? false;
  }

  private startBody(): void {
    this.state = "body";
    this.parts = [];
    this.bodyLen = 0;
    this.cuts = [];
  }

  feed(chunk: Uint8Array): RspEvent[] {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const n = buf.length;
    const events: RspEvent[] = [];
    // this chunk goes on with a packet an earlier one began
    if (this.state !== "idle") this.cuts.push(this.bodyLen);
    const flushJunk = () => {
      if (this.junk.length > 0) {
        events.push({ type: "junk", bytes: Buffer.from(this.junk) });
        this.junk = [];
      }
    };
    let i = 0;
    while (i < n) {
      if (this.state === "body") {
        // fast path: copy the run of data bytes up to the next `#` or `$` at once
        let end = buf.indexOf(HASH, i);
        if (end < 0) end = n;
        const dollar = buf.indexOf(DOLLAR, i);
        if (dollar >= 0 && dollar < end) end = dollar;
        if (end > i) {
          const room = this.maxPacket - this.bodyLen;
          if (end - i > room) {
            // too long: drop the packet; the byte that overflowed is lost, what follows is outside any packet
            this.state = "idle";
            this.parts = [];
            this.bodyLen = 0;
            i += room + 1;
            continue;
          }
          this.parts.push(Buffer.from(buf.subarray(i, end)));
          this.bodyLen += end - i;
          i = end;
          if (i >= n) break;
        }
        const b = buf[i++]!;
        if (b === HASH) this.state = "cs1";
        else this.startBody(); // `$`: restart (resync after a lost tail)
        continue;
      }
      const b = buf[i++]!;
      switch (this.state) {
        case "idle":
          if (b === DOLLAR) {
            flushJunk();
            this.startBody();
          } else if (b === PLUS) {
            flushJunk();
            events.push({ type: "ack" });
          } else if (b === MINUS) {
            flushJunk();
            events.push({ type: "nak" });
          } else if (b === INTERRUPT && this.interrupts) {
            flushJunk();
            events.push({ type: "interrupt" });
          } else {
            this.junk.push(b);
            if (this.junk.length >= 4096) flushJunk();
          }
          break;
        case "cs1":
          if (b === DOLLAR) this.startBody();
          else {
            this.cs1 = b;
            this.state = "cs2";
          }
          break;
        case "cs2": {
          this.state = "idle";
          if (b === DOLLAR) {
            this.startBody();
            break;
          }
          const raw = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.bodyLen);
          this.parts = [];
          this.bodyLen = 0;
          const want = parseHexByte(this.cs1, b);
          const cuts = this.cuts;
          this.cuts = [];
          events.push(want !== undefined && want === checksum(raw) ? { type: "packet", raw, cuts } : { type: "bad-packet", raw });
          break;
        }
      }
    }
    flushJunk();
    return events;
  }

  /** True while a packet has started but not ended. */
  get inPacket(): boolean {
    return this.state !== "idle";
  }
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function parseHexByte(hi: number, lo: number): number | undefined {
  const h = hexVal(hi);
  const l = hexVal(lo);
  return h < 0 || l < 0 ? undefined : (h << 4) | l;
}

/** Hex text -> bytes; undefined when the text is not an even run of hex digits. */
export function fromHex(text: string): Buffer | undefined {
  if (text.length % 2 !== 0) return undefined;
  // Node's decoder stops at the first pair that is not hex: a short result is the validity check
  // (a regex over a 16 KiB reply cost more than the decoding)
  const out = Buffer.from(text, "hex");
  return out.length * 2 === text.length ? out : undefined;
}

export function toHex(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("hex");
}

/** `E` + two digits: kgdb uses decimal errno digits, gdbserver hex; either way a 3-char error reply. */
export function isErrorReply(body: string): boolean {
  return /^E[0-9a-fA-F]{2}$/.test(body);
}
