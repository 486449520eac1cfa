import { describe, expect, it } from "vitest";
import { parseElfSymbols } from "../../src/engine/elf.js";

/** A minimal ELF64 LE image built by hand: header, .symtab (null + 2 symbols), .strtab, section table. */
function tinyElf(machine = 62): Buffer {
  const strtab = Buffer.from("\0linux_banner\0start_kernel\0");
  const sym = (name: number, info: number, value: bigint, size: bigint) => {
    const b = Buffer.alloc(24);
    b.writeUInt32LE(name, 0);
    b[4] = info;
    b.writeUInt16LE(1, 6);
    b.writeBigUInt64LE(value, 8);
    b.writeBigUInt64LE(size, 16);
    return b;
  };
  const symtab = Buffer.concat([
    Buffer.alloc(24),
    sym(1, 0x11, 0xffffffff82000000n, 0x100n),
    sym(14, 0x12, 0xffffffff83000000n, 0x40n),
  ]);
  const symOff = 64;
  const strOff = symOff + symtab.length;
  const shOff = strOff + strtab.length;
  const sh = (type: number, off: number, size: number, link: number, entsize: number) => {
    const b = Buffer.alloc(64);
    b.writeUInt32LE(type, 4);
    b.writeBigUInt64LE(BigInt(off), 24);
    b.writeBigUInt64LE(BigInt(size), 32);
    b.writeUInt32LE(link, 40);
    b.writeBigUInt64LE(BigInt(entsize), 56);
    return b;
  };
  const sections = Buffer.concat([Buffer.alloc(64), sh(2, symOff, symtab.length, 2, 24), sh(3, strOff, strtab.length, 0, 0)]);
  const h = Buffer.alloc(64);
  h.writeUInt32BE(0x7f454c46, 0);
  h[4] = 2;
  h[5] = 1;
  h[6] = 1;
  h.writeUInt16LE(machine, 0x12);
  h.writeBigUInt64LE(BigInt(shOff), 0x28);
  h.writeUInt16LE(64, 0x3a);
  h.writeUInt16LE(3, 0x3c);
  return Buffer.concat([h, symtab, strtab, sections]);
}

describe("ELF64 symbol table", () => {
  it("looks symbols up by name and symbolizes addresses", () => {
    const t = parseElfSymbols(tinyElf());
    expect(t.arch).toBe("x86_64");
    expect(t.lookup("linux_banner")?.value).toBe(0xffffffff82000000n);
    expect(t.lookup("start_kernel")?.type).toBe(2);
    expect(t.format(0xffffffff83000010n)).toBe("start_kernel+0x10");
    expect(t.format(0xffffffff83000040n)).toBe("0xffffffff83000040"); // past the end of the symbol
    expect(parseElfSymbols(tinyElf(183)).arch).toBe("arm64");
  });

  it("rejects what is not an unstripped little-endian ELF64 with a coded error", () => {
    expect(() => parseElfSymbols(Buffer.from("MZ not elf at all, just some bytes to fill sixty-four of them......"))).toThrow(
      expect.objectContaining({ code: "NETDBG-E405" }),
    );
    const e32 = tinyElf();
    e32[4] = 1;
    expect(() => parseElfSymbols(e32)).toThrow(/64-bit/);
    const truncated = tinyElf().subarray(0, 100);
    expect(() => parseElfSymbols(truncated)).toThrow(expect.objectContaining({ code: "NETDBG-E405" }));
  });
});
