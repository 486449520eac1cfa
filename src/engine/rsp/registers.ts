/**
 * Register layouts of the `g` packet, in GDB's register numbering.
 *
 * x86_64: gdb's amd64 order (gdb/features/i386/64bit-core.xml): rax rbx rcx rdx rsi rdi rbp rsp r8–r15 rip
 * (8 bytes each) then eflags cs ss ds es fs gs (4 bytes each). Linux kgdb sends only the first 156 bytes
 * (17×8 + 5×4, arch/x86/include/asm/kgdb.h NUMREGBYTES), so fs/gs are unavailable there; gdbserver sends
 * the whole set and more (x87, SSE…), which we ignore.
 * arm64: gdb/features/aarch64-core.xml: x0–x30, sp, pc (8 bytes each), cpsr (4 bytes)
 * (arch/arm64/include/asm/kgdb.h: _GP_REGS 33 + pc + pstate). All little-endian.
 */
export type Arch = "x86_64" | "arm64";

export interface RegDef {
  name: string;
  size: 4 | 8;
}

const X86_64: RegDef[] = [
  ..."rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15 rip".split(" ").map((name) => ({ name, size: 8 as const })),
  ..."eflags cs ss ds es fs gs".split(" ").map((name) => ({ name, size: 4 as const })),
];

const ARM64: RegDef[] = [
  ...Array.from({ length: 31 }, (_, i) => ({ name: `x${i}`, size: 8 as const })),
  { name: "sp", size: 8 },
  { name: "pc", size: 8 },
  { name: "cpsr", size: 4 },
];

export const LAYOUTS: Record<Arch, RegDef[]> = { x86_64: X86_64, arm64: ARM64 };

/** Program counter, stack pointer and frame pointer names per arch. */
export const SPECIAL: Record<Arch, { pc: string; sp: string; fp: string; breakKind: number }> = {
  x86_64: { pc: "rip", sp: "rsp", fp: "rbp", breakKind: 1 },
  arm64: { pc: "pc", sp: "sp", fp: "x29", breakKind: 4 },
};

export interface Registers {
  arch: Arch;
  /** name -> value; registers the stub did not send (or sent as `xx`) are absent. */
  values: Map<string, bigint>;
  order: string[];
}

/** Parse a `g` reply (hex, possibly with `x` for unavailable bytes). */
export function parseRegisters(arch: Arch, hex: string): Registers {
  const values = new Map<string, bigint>();
  const order: string[] = [];
  let off = 0;
  for (const def of LAYOUTS[arch]) {
    const len = def.size * 2;
    if (off + len > hex.length) break;
    const field = hex.slice(off, off + len);
    off += len;
    order.push(def.name);
    if (!/^[0-9a-fA-F]+$/.test(field)) continue;
    values.set(def.name, leHexToBigInt(field));
  }
  return { arch, values, order };
}

export function leHexToBigInt(hex: string): bigint {
  let v = 0n;
  for (let i = hex.length - 2; i >= 0; i -= 2) v = (v << 8n) | BigInt(Number.parseInt(hex.slice(i, i + 2), 16));
  return v;
}

export function bigIntToLeHex(v: bigint, size: number): string {
  let out = "";
  let x = BigInt.asUintN(size * 8, v);
  for (let i = 0; i < size; i++) {
    out += (x & 0xffn).toString(16).padStart(2, "0");
    x >>= 8n;
  }
  return out;
}
