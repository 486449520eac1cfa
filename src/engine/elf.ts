import { open } from "node:fs/promises";
import { netdbgError } from "../core/error.js";
import type { Arch } from "./rsp/registers.js";

/**
 * ELF64 symbol table reader for `vmlinux` (and any unstripped ELF64 binary). Layout from the System V ABI
 * gABI "ELF header", "Sections", "Symbol Table" (ELF-64 Object File Format 1.5): header e_shoff @0x28,
 * e_shentsize/e_shnum/e_shstrndx @0x3a/0x3c/0x3e; 64-byte section headers (type @4, offset @24, size @32,
 * link @40, entsize @56); 24-byte symbols (name @0, info @4, shndx @6, value @8, size @16).
 * Only the header, section table, .symtab and its string table are read: a 633 MB debug vmlinux is fine.
 */

export interface ElfSymbol {
  name: string;
  value: bigint;
  size: bigint;
  /** STT_*: 0 notype, 1 object, 2 func. */
  type: number;
  /** STB_*: 0 local, 1 global, 2 weak. */
  bind: number;
}

const SHT_SYMTAB = 2;
const EM: Record<number, Arch> = { 62: "x86_64", 183: "arm64" };

export class SymbolTable {
  private readonly byName = new Map<string, ElfSymbol>();
  private readonly sorted: ElfSymbol[];

  constructor(
    readonly file: string,
    readonly arch: Arch | undefined,
    symbols: ElfSymbol[],
  ) {
    for (const s of symbols) {
      if (!s.name) continue;
      const prev = this.byName.get(s.name);
      // prefer a global definition over locals of the same name
      if (!prev || (prev.bind === 0 && s.bind !== 0)) this.byName.set(s.name, s);
    }
    this.sorted = symbols
      .filter((s) => s.name && s.value !== 0n && (s.type === 1 || s.type === 2 || s.type === 0) && !s.name.startsWith("$"))
      .sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  }

  get size(): number {
    return this.byName.size;
  }

  names(): IterableIterator<string> {
    return this.byName.keys();
  }

  lookup(name: string): ElfSymbol | undefined {
    return this.byName.get(name);
  }

  /** The symbol containing (or nearest below) addr, with the offset: `hrtimer_nanosleep+0x12`. */
  symbolize(addr: bigint): { symbol: ElfSymbol; offset: bigint } | undefined {
    let lo = 0;
    let hi = this.sorted.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid]!.value <= addr) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (best < 0) return undefined;
    const symbol = this.sorted[best]!;
    const offset = addr - symbol.value;
    if (symbol.size > 0n ? offset >= symbol.size : offset > 0x100000n) return undefined;
    return { symbol, offset };
  }

  format(addr: bigint): string {
    const s = this.symbolize(addr);
    if (!s) return `0x${addr.toString(16)}`;
    return s.offset === 0n ? s.symbol.name : `${s.symbol.name}+0x${s.offset.toString(16)}`;
  }
}

/** Parse the symbol table of an ELF64 little-endian image held in memory. */
export function parseElfSymbols(buf: Buffer, file = "(buffer)"): SymbolTable {
  const read = (off: number, len: number) => {
    if (off < 0 || off + len > buf.length) throw netdbgError("E405", { file, problem: "truncated file" });
    return buf.subarray(off, off + len);
  };
  return parse((off, len) => read(Number(off), len), file);
}

/** Read only the parts of the file that hold symbols. */
export async function readElfSymbols(file: string): Promise<SymbolTable> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(file, "r");
  } catch (e) {
    throw netdbgError("E405", { file, problem: (e as Error).message });
  }
  try {
    const size = (await fh.stat()).size;
    const chunks = new Map<string, Buffer>();
    const need = async (off: bigint, len: number) => {
      if (off < 0n || off + BigInt(len) > BigInt(size)) throw netdbgError("E405", { file, problem: "truncated file" });
      const b = Buffer.alloc(len);
      await fh.read(b, 0, len, Number(off));
      chunks.set(`${off}:${len}`, b);
      return b;
    };
    const header = await need(0n, 64);
    checkHeader(header, file);
    const shoff = header.readBigUInt64LE(0x28);
    const shentsize = header.readUInt16LE(0x3a);
    const shnum = header.readUInt16LE(0x3c);
    const sections = await need(shoff, shentsize * shnum);
    for (let i = 0; i < shnum; i++) {
      const sh = sections.subarray(i * shentsize, (i + 1) * shentsize);
      if (sh.readUInt32LE(4) !== SHT_SYMTAB) continue;
      const link = sh.readUInt32LE(40);
      const str = sections.subarray(link * shentsize, (link + 1) * shentsize);
      await need(sh.readBigUInt64LE(24), Number(sh.readBigUInt64LE(32)));
      await need(str.readBigUInt64LE(24), Number(str.readBigUInt64LE(32)));
    }
    return parse((off, len) => {
      const b = chunks.get(`${off}:${len}`);
      if (!b) throw netdbgError("E405", { file, problem: "inconsistent section table" });
      return b;
    }, file);
  } finally {
    await fh.close();
  }
}

function checkHeader(h: Buffer, file: string): void {
  if (h.length < 64 || h.readUInt32BE(0) !== 0x7f454c46) throw netdbgError("E405", { file, problem: "not an ELF file" });
  if (h[4] !== 2) throw netdbgError("E405", { file, problem: "not a 64-bit ELF file" });
  if (h[5] !== 1) throw netdbgError("E405", { file, problem: "not little-endian" });
}

function parse(read: (off: bigint, len: number) => Buffer, file: string): SymbolTable {
  const header = read(0n, 64);
  checkHeader(header, file);
  const arch = EM[header.readUInt16LE(0x12)];
  const shoff = header.readBigUInt64LE(0x28);
  const shentsize = header.readUInt16LE(0x3a);
  const shnum = header.readUInt16LE(0x3c);
  if (shentsize < 64 || shnum === 0) throw netdbgError("E405", { file, problem: "no section header table" });
  const sections = read(shoff, shentsize * shnum);
  const symbols: ElfSymbol[] = [];
  let found = false;
  for (let i = 0; i < shnum; i++) {
    const sh = sections.subarray(i * shentsize, (i + 1) * shentsize);
    if (sh.readUInt32LE(4) !== SHT_SYMTAB) continue;
    found = true;
    const link = sh.readUInt32LE(40);
    if (link >= shnum) throw netdbgError("E405", { file, problem: "symbol table links a missing string table" });
    const str = sections.subarray(link * shentsize, (link + 1) * shentsize);
    const symtab = read(sh.readBigUInt64LE(24), Number(sh.readBigUInt64LE(32)));
    const strtab = read(str.readBigUInt64LE(24), Number(str.readBigUInt64LE(32)));
    const entsize = Number(sh.readBigUInt64LE(56)) || 24;
    for (let off = 0; off + 24 <= symtab.length; off += entsize) {
      const nameOff = symtab.readUInt32LE(off);
      const end = strtab.indexOf(0, nameOff);
      const name = nameOff < strtab.length ? strtab.toString("latin1", nameOff, end < 0 ? strtab.length : end) : "";
      const info = symtab[off + 4]!;
      symbols.push({
        name,
        value: symtab.readBigUInt64LE(off + 8),
        size: symtab.readBigUInt64LE(off + 16),
        type: info & 0xf,
        bind: info >> 4,
      });
    }
  }
  if (!found) throw netdbgError("E405", { file, problem: "it has no .symtab (stripped)" });
  return new SymbolTable(file, arch, symbols);
}
