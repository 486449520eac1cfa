/**
 * An x64 stack walk from a stopped CPU's context, the way WinDbg's `k` does it: for each frame, find the image
 * that holds the instruction pointer, look the function up in the image's exception directory (.pdata
 * RUNTIME_FUNCTION entries), undo the prolog's effect with its UNWIND_INFO codes, then pop the return address.
 * A function without an entry is a leaf (its return address is at rsp).
 *
 * Layouts: "x64 exception handling" (Microsoft Learn, /cpp/build/exception-handling-x64: RUNTIME_FUNCTION,
 * UNWIND_INFO, UNWIND_CODE and the unwind operations) and "PE Format" (Microsoft Learn,
 * /windows/win32/debug/pe-format: e_lfanew, the PE32+ optional header, data directory 3 = exception table).
 */

export interface UnwindModule {
  name: string;
  base: bigint;
  size: number;
}

export interface UnwindFrame {
  /** The frame's number, 0 the innermost. */
  index: number;
  /** rsp of the frame (WinDbg's Child-SP). */
  childSp: bigint;
  /** Where the frame returns to (0 when the walk ends here). */
  retAddr: bigint;
  /** The instruction pointer in this frame. */
  ip: bigint;
  /** The image holding ip, and ip's offset in it. */
  module?: string;
  offset?: bigint;
  /** How this frame was unwound. */
  how: "unwind-data" | "leaf";
}

export interface UnwindResult {
  frames: UnwindFrame[];
  /** Why the walk stopped before reaching a zero return address, if it did. */
  stopped?: string;
}

/** Reads target memory; returns fewer bytes than asked (or throws) where memory is not readable. */
export type ReadMemory = (address: bigint, length: number) => Promise<Buffer>;

const MASK64 = 0xffffffffffffffffn;
const RSP = 4;
const UNW_FLAG_CHAININFO = 0x4;

interface Image {
  module: UnwindModule;
  pdata?: { at: bigint; count: number };
}

class Walker {
  private readonly images = new Map<bigint, Image>();
  constructor(
    private readonly read: ReadMemory,
    private readonly modules: readonly UnwindModule[],
  ) {}

  async bytes(address: bigint, length: number): Promise<Buffer | undefined> {
    try {
      const b = await this.read(address & MASK64, length);
      return b.length >= length ? b : undefined;
    } catch {
      return undefined;
    }
  }

  async u64(address: bigint): Promise<bigint | undefined> {
    return (await this.bytes(address, 8))?.readBigUInt64LE(0);
  }

  moduleOf(ip: bigint): UnwindModule | undefined {
    return this.modules.find((m) => ip >= m.base && ip < m.base + BigInt(m.size));
  }

  /** The image's exception directory, read from its PE header in target memory (once). */
  async image(m: UnwindModule): Promise<Image> {
    const cached = this.images.get(m.base);
    if (cached) return cached;
    const img: Image = { module: m };
    this.images.set(m.base, img);
    const dos = await this.bytes(m.base, 0x40);
    if (dos?.readUInt16LE(0) !== 0x5a4d) return img;
    const lfanew = dos.readUInt32LE(0x3c);
    const nt = await this.bytes(m.base + BigInt(lfanew), 24 + 112 + 16 * 8);
    if (nt?.readUInt32LE(0) !== 0x4550 || nt.readUInt16LE(24) !== 0x20b) return img;
    const dirCount = nt.readUInt32LE(24 + 108);
    if (dirCount <= 3) return img;
    const rva = nt.readUInt32LE(24 + 112 + 3 * 8);
    const size = nt.readUInt32LE(24 + 112 + 3 * 8 + 4);
    if (rva !== 0 && size >= 12) img.pdata = { at: m.base + BigInt(rva), count: Math.floor(size / 12) };
    return img;
  }

  /** Binary search of the sorted RUNTIME_FUNCTION table for the entry holding rva. */
  async lookup(img: Image, rva: number): Promise<{ begin: number; end: number; unwind: number } | undefined> {
    if (!img.pdata) return undefined;
    let lo = 0;
    let hi = img.pdata.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = await this.bytes(img.pdata.at + BigInt(mid * 12), 12);
      if (!e) return undefined;
      const begin = e.readUInt32LE(0);
      const end = e.readUInt32LE(4);
      if (rva < begin) hi = mid - 1;
      else if (rva >= end) lo = mid + 1;
      else return { begin, end, unwind: e.readUInt32LE(8) };
    }
    return undefined;
  }

  /**
   * Undo one function's prolog on regs (in place). `offset` is ip's offset from the function's start; codes for
   * prolog instructions not yet executed are skipped. Returns whether a machine frame replaced the return.
   */
  async undo(
    base: bigint,
    unwindRva: number,
    offset: number,
    regs: bigint[],
    chained: boolean,
  ): Promise<"ok" | "machframe" | string> {
    for (let depth = 0; depth < 32; depth++) {
      const head = await this.bytes(base + BigInt(unwindRva), 4);
      if (!head) return "the unwind data is not readable";
      const version = head[0]! & 7;
      const flags = head[0]! >> 3;
      if (version !== 1 && version !== 2) return `unwind data version ${version} is unknown`;
      const prolog = head[1]!;
      const count = head[2]!;
      const frameReg = head[3]! & 15;
      const frameOff = head[3]! >> 4;
      const codes = await this.bytes(base + BigInt(unwindRva) + 4n, count * 2);
      if (!codes) return "the unwind codes are not readable";
      const inProlog = !chained && offset < prolog;
      for (let i = 0; i < count; ) {
        const codeOffset = codes[i * 2]!;
        const op = codes[i * 2 + 1]! & 15;
        const info = codes[i * 2 + 1]! >> 4;
        const slot = (k: number) => codes.readUInt16LE((i + k) * 2);
        const applies = !inProlog || codeOffset <= offset;
        let used = 1;
        switch (op) {
          case 0: // UWOP_PUSH_NONVOL
            if (applies) {
              const v = await this.u64(regs[RSP]!);
              if (v === undefined) return "the stack is not readable";
              regs[info] = v;
              regs[RSP] = (regs[RSP]! + 8n) & MASK64;
            }
            break;
          case 1: {
            // UWOP_ALLOC_LARGE: the size in the next slot (×8) or the next two (unscaled)
            used = info === 0 ? 2 : 3;
            const size = info === 0 ? BigInt(slot(1)) * 8n : BigInt(slot(1) | (slot(2) << 16)) & 0xffffffffn;
            if (applies) regs[RSP] = (regs[RSP]! + size) & MASK64;
            break;
          }
          case 2: // UWOP_ALLOC_SMALL
            if (applies) regs[RSP] = (regs[RSP]! + BigInt(info * 8 + 8)) & MASK64;
            break;
          case 3: // UWOP_SET_FPREG
            if (applies) regs[RSP] = (regs[frameReg]! - BigInt(frameOff * 16)) & MASK64;
            break;
          case 4: // UWOP_SAVE_NONVOL
          case 5: {
            // UWOP_SAVE_NONVOL_FAR
            used = op === 4 ? 2 : 3;
            const at = op === 4 ? BigInt(slot(1)) * 8n : BigInt(slot(1) | (slot(2) << 16)) & 0xffffffffn;
            if (applies) {
              const v = await this.u64(regs[RSP]! + at);
              if (v === undefined) return "the stack is not readable";
              regs[info] = v;
            }
            break;
          }
          case 6: // version 1: UWOP_SAVE_XMM (2 slots); version 2: UWOP_EPILOG (2 slots)
          case 8: // UWOP_SAVE_XMM128
            used = 2;
            break;
          case 7: // UWOP_SAVE_XMM_FAR
          case 9: // UWOP_SAVE_XMM128_FAR
            used = 3;
            break;
          case 10: // UWOP_PUSH_MACHFRAME: the CPU pushed SS, RSP, EFLAGS, CS, RIP (and an error code when info = 1)
            if (applies) {
              const at = regs[RSP]! + (info === 1 ? 8n : 0n);
              const rip = await this.u64(at);
              const rsp = await this.u64(at + 24n);
              if (rip === undefined || rsp === undefined) return "the machine frame is not readable";
              regs[16] = rip;
              regs[RSP] = rsp;
              return "machframe";
            }
            break;
          default:
            return `unwind operation ${op} is unknown`;
        }
        i += used;
      }
      if (!(flags & UNW_FLAG_CHAININFO)) return "ok";
      // the chained RUNTIME_FUNCTION follows the codes, which are padded to an even count
      const at = 4 + (count + (count & 1)) * 2;
      const chain = await this.bytes(base + BigInt(unwindRva) + BigInt(at), 12);
      if (!chain) return "the chained unwind entry is not readable";
      unwindRva = chain.readUInt32LE(8);
      chained = true;
    }
    return "the unwind chain is too long";
  }
}

/**
 * Walk the stack from `regs` (16 general registers in x64 encoding order rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi,
 * r8 … r15) and `rip`, at most `max` frames.
 */
export async function walkStack(
  read: ReadMemory,
  modules: readonly UnwindModule[],
  start: { regs: readonly bigint[]; rip: bigint },
  max = 20,
): Promise<UnwindResult> {
  const w = new Walker(read, modules);
  const regs = [...start.regs.slice(0, 16), start.rip];
  const frames: UnwindFrame[] = [];
  while (frames.length < max) {
    const ip = regs[16]!;
    const sp = regs[RSP]!;
    const m = w.moduleOf(ip);
    const frame: UnwindFrame = { index: frames.length, childSp: sp, retAddr: 0n, ip, how: "leaf" };
    if (m) {
      frame.module = m.name;
      frame.offset = ip - m.base;
    }
    frames.push(frame);
    let machframe = false;
    if (m) {
      const img = await w.image(m);
      const rf = await w.lookup(img, Number(ip - m.base));
      if (rf) {
        frame.how = "unwind-data";
        const r = await w.undo(m.base, rf.unwind, Number(ip - m.base) - rf.begin, regs, false);
        if (r === "machframe") machframe = true;
        else if (r !== "ok") return { frames, stopped: `frame ${frame.index}: ${r}` };
      }
    }
    if (!machframe) {
      const ret = await w.u64(regs[RSP]!);
      if (ret === undefined)
        return { frames, stopped: `frame ${frame.index}: the return address at ${regs[RSP]!.toString(16)} is not readable` };
      regs[16] = ret;
      regs[RSP] = (regs[RSP]! + 8n) & MASK64;
    }
    frame.retAddr = regs[16]!;
    if (regs[16] === 0n) return { frames };
    if (regs[RSP]! <= sp && !machframe) return { frames, stopped: `frame ${frame.index}: the stack pointer did not move up` };
  }
  return { frames, stopped: `${max} frames shown (k <n> for more)` };
}
