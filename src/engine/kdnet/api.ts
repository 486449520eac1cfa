/**
 * The KD API over a KDNET host session: version, memory (virtual/physical, chunked), contexts, breakpoints,
 * continue/step, control space, reboot, module list walk.
 *
 * Union layouts: rizin's rzwinkd kd.h and VirtualBox's DBGCRemoteKd.cpp, checked against CAP1 (test/fixtures/kdnet/windbg-uncut.pcapng.gz)
 * (windbg-uncut.pcapng.gz frames 10–16 GetVersion/ReadVirtualMemory, 196 GetContext 1288 bytes, 950 Continue2).
 * LDR_DATA_TABLE_ENTRY x64 offsets: InLoadOrderLinks @0x00, DllBase @0x30, EntryPoint @0x38, SizeOfImage @0x40,
 * FullDllName @0x48, BaseDllName @0x58 (UNICODE_STRING: Length u16, MaximumLength u16, Buffer u64 @+8).
 */
import { netdbgError } from "../../core/error.js";
import {
  Api,
  buildManipulate,
  CONTEXT_AMD64_SIZE,
  DBG_CONTINUE,
  type KdVersion,
  type Manipulate,
  memoryUnion,
  parseVersion,
  type StateChange,
  STATUS_SUCCESS,
} from "./kd.js";
import type { KdnetHostSession } from "./session.js";

/** Default bytes per memory read: fits a 1500-byte MTU and matches the largest read seen from Win10 19041 (CAP2). */
export const DEFAULT_CHUNK = 1096;

export interface Module {
  name: string;
  path: string;
  base: bigint;
  size: number;
  entry: bigint;
}

/** AMD64 CONTEXT register offsets (winnt.h CONTEXT for AMD64; 1232 bytes). */
export const AMD64_REGS: readonly (readonly [string, number, 2 | 4 | 8])[] = [
  ["rax", 0x78, 8],
  ["rcx", 0x80, 8],
  ["rdx", 0x88, 8],
  ["rbx", 0x90, 8],
  ["rsp", 0x98, 8],
  ["rbp", 0xa0, 8],
  ["rsi", 0xa8, 8],
  ["rdi", 0xb0, 8],
  ["r8", 0xb8, 8],
  ["r9", 0xc0, 8],
  ["r10", 0xc8, 8],
  ["r11", 0xd0, 8],
  ["r12", 0xd8, 8],
  ["r13", 0xe0, 8],
  ["r14", 0xe8, 8],
  ["r15", 0xf0, 8],
  ["rip", 0xf8, 8],
  ["efl", 0x44, 4],
  ["cs", 0x38, 2],
  ["ss", 0x42, 2],
  ["ds", 0x3a, 2],
  ["es", 0x3c, 2],
  ["fs", 0x3e, 2],
  ["gs", 0x40, 2],
  ["dr7", 0x70, 8],
];

export function contextRegisters(ctx: Buffer): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const [name, off, size] of AMD64_REGS) {
    if (off + size > ctx.length) continue;
    out[name] = size === 8 ? ctx.readBigUInt64LE(off) : BigInt(size === 4 ? ctx.readUInt32LE(off) : ctx.readUInt16LE(off));
  }
  return out;
}

export const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

export interface KdClientOptions {
  /** Bytes per memory request (default 1096). */
  chunk?: number;
  /** How long to wait for a state change after continue/step/break (ms). */
  stateTimeoutMs?: number;
}

export class KdClient {
  readonly chunk: number;
  private readonly stateTimeoutMs: number;
  version: KdVersion | undefined;

  constructor(
    readonly session: KdnetHostSession,
    opts: KdClientOptions = {},
  ) {
    this.chunk = opts.chunk ?? DEFAULT_CHUNK;
    this.stateTimeoutMs = opts.stateTimeoutMs ?? 10_000;
  }

  private check(m: Manipulate, what: string, detail?: string): void {
    if (m.status !== STATUS_SUCCESS) {
      throw netdbgError(
        "E505",
        detail === undefined ? { api: what, status: hex(m.status) } : { api: what, status: hex(m.status), detail },
      );
    }
  }

  async getVersion(): Promise<KdVersion> {
    const m = await this.session.request(buildManipulate(Api.GetVersion, () => {}));
    this.check(m, "GetVersion");
    const full = Buffer.concat([Buffer.alloc(16), m.union]);
    const v = parseVersion(full);
    if (!v) throw netdbgError("E505", { api: "GetVersion", status: "short response" });
    this.version = v;
    return v;
  }

  private async readChunked(
    api: number,
    address: bigint,
    length: number,
    flags = 0,
    onProgress?: (done: number) => void,
  ): Promise<Buffer> {
    const out = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const want = Math.min(this.chunk, length - done);
      const addr = (address + BigInt(done)) & 0xffffffffffffffffn;
      const m = await this.session.request(
        buildManipulate(api, (b) => {
          b.writeBigUInt64LE(addr, 16);
          b.writeUInt32LE(want, 24);
          b.writeUInt32LE(flags, 28);
        }),
        (r) => {
          const u = memoryUnion(Buffer.concat([Buffer.alloc(16), r.union]));
          return u.address === addr;
        },
      );
      const u = memoryUnion(Buffer.concat([Buffer.alloc(16), m.union]));
      const got = Math.min(u.actual, m.extra.length, want);
      m.extra.copy(out, done, 0, got);
      done += got;
      onProgress?.(done);
      if (m.status !== STATUS_SUCCESS || got < want) {
        throw netdbgError("E505", {
          api: `${apiNameOf(api)} at ${hex(addr + BigInt(got))}`,
          status: hex(m.status),
          detail: `${done} of ${length} bytes read`,
        });
      }
    }
    return out;
  }

  private async writeChunked(api: number, address: bigint, data: Uint8Array): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const n = Math.min(this.chunk, data.length - done);
      const addr = (address + BigInt(done)) & 0xffffffffffffffffn;
      const m = await this.session.request(
        buildManipulate(
          api,
          (b) => {
            b.writeBigUInt64LE(addr, 16);
            b.writeUInt32LE(n, 24);
          },
          data.subarray(done, done + n),
        ),
        (r) => memoryUnion(Buffer.concat([Buffer.alloc(16), r.union])).address === addr,
      );
      const u = memoryUnion(Buffer.concat([Buffer.alloc(16), m.union]));
      if (m.status !== STATUS_SUCCESS || u.actual < n) {
        throw netdbgError("E505", {
          api: `${apiNameOf(api)} at ${hex(addr)}`,
          status: hex(m.status),
          detail: `${done + u.actual} of ${data.length} bytes written`,
        });
      }
      done += n;
    }
  }

  readVirtual(address: bigint, length: number, onProgress?: (done: number) => void): Promise<Buffer> {
    return this.readChunked(Api.ReadVirtualMemory, address, length, 0, onProgress);
  }
  writeVirtual(address: bigint, data: Uint8Array): Promise<void> {
    return this.writeChunked(Api.WriteVirtualMemory, address, data);
  }
  readPhysical(address: bigint, length: number): Promise<Buffer> {
    return this.readChunked(Api.ReadPhysicalMemory, address, length);
  }
  writePhysical(address: bigint, data: Uint8Array): Promise<void> {
    return this.writeChunked(Api.WritePhysicalMemory, address, data);
  }

  /** ReadControlSpace: `item` 0 KPCR, 1 KPRCB, 2 special registers, 3 KTHREAD (VBOX). */
  async readControlSpace(item: bigint, length: number, processor = 0): Promise<Buffer> {
    const m = await this.session.request(
      buildManipulate(
        Api.ReadControlSpace,
        (b) => {
          b.writeBigUInt64LE(item, 16);
          b.writeUInt32LE(length, 24);
        },
        undefined,
        { processor },
      ),
    );
    this.check(m, "ReadControlSpace");
    const u = memoryUnion(Buffer.concat([Buffer.alloc(16), m.union]));
    return Buffer.from(m.extra.subarray(0, Math.min(u.actual, m.extra.length)));
  }

  /** The CONTEXT of `processor`: GetContextEx in chunks, falling back to GetContext (as WinDbg does, CAP1). */
  async getContext(processor = 0): Promise<Buffer> {
    try {
      return await this.getContextEx(processor);
    } catch (e) {
      if ((e as { code?: string }).code !== "NETDBG-E505") throw e;
    }
    const m = await this.session.request(buildManipulate(Api.GetContext, () => {}, undefined, { processor }));
    this.check(m, "GetContext");
    return Buffer.from(m.extra.subarray(0, CONTEXT_AMD64_SIZE));
  }

  async getContextEx(processor = 0, size = CONTEXT_AMD64_SIZE): Promise<Buffer> {
    const out = Buffer.alloc(size);
    let off = 0;
    const step = Math.max(16, this.chunk);
    while (off < size) {
      const want = Math.min(step, size - off);
      const o = off;
      const m = await this.session.request(
        buildManipulate(
          Api.GetContextEx,
          (b) => {
            b.writeUInt32LE(o, 16);
            b.writeUInt32LE(want, 20);
          },
          undefined,
          { processor },
        ),
        (r) => r.union.readUInt32LE(0) === o,
      );
      this.check(m, "GetContextEx");
      const copied = Math.min(m.union.readUInt32LE(8), m.extra.length, want);
      if (copied === 0) throw netdbgError("E505", { api: "GetContextEx", status: hex(m.status), detail: "no bytes copied" });
      m.extra.copy(out, off, 0, copied);
      off += copied;
    }
    return out;
  }

  async setContext(context: Uint8Array, processor = 0): Promise<void> {
    const m = await this.session.request(buildManipulate(Api.SetContext, () => {}, context, { processor }));
    this.check(m, "SetContext");
  }

  async writeBreakpoint(address: bigint): Promise<number> {
    const m = await this.session.request(
      buildManipulate(Api.WriteBreakPoint, (b) => b.writeBigUInt64LE(address, 16)),
      (r) => r.union.readBigUInt64LE(0) === address,
    );
    this.check(m, "WriteBreakPoint", `address ${hex(address)}`);
    return m.union.readUInt32LE(8);
  }

  async restoreBreakpoint(handle: number): Promise<void> {
    const m = await this.session.request(
      buildManipulate(Api.RestoreBreakPoint, (b) => b.writeUInt32LE(handle, 16)),
      (r) => r.union.readUInt32LE(0) === handle,
    );
    this.check(m, "RestoreBreakPoint", `handle ${handle}`);
  }

  /** Continue2 (status DBG_CONTINUE); with `trace` the target single-steps and reports a state change. */
  async continue(opts: { trace?: boolean; status?: number; dr7?: bigint } = {}): Promise<void> {
    await this.session.command(
      buildManipulate(Api.Continue2, (b) => {
        b.writeUInt32LE(opts.status ?? DBG_CONTINUE, 16);
        b.writeUInt32LE(opts.trace ? 1 : 0, 20);
        b.writeBigUInt64LE(opts.dr7 ?? 0n, 24);
        b.writeBigUInt64LE(1n, 32);
        b.writeBigUInt64LE(0n, 40);
      }),
    );
  }

  /** Single-step: Continue2 with TraceFlag, then wait for the target to stop again. */
  async step(): Promise<StateChange> {
    const next = this.session.waitForStateChange(this.stateTimeoutMs);
    next.catch(() => {});
    await this.continue({ trace: true });
    return next;
  }

  /** Send the break-in byte and wait for the target to stop (at once when it already waits in the debugger). */
  async breakIn(): Promise<StateChange> {
    if (this.session.stopped && this.session.lastState) return this.session.lastState;
    const next = this.session.waitForStateChange(this.stateTimeoutMs);
    next.catch(() => {});
    this.session.breakIn();
    return next;
  }

  async reboot(): Promise<void> {
    await this.session.command(buildManipulate(Api.Reboot, () => {}));
  }

  /** Walk PsLoadedModuleList (x64 LDR_DATA_TABLE_ENTRY), at most `limit` entries. */
  async modules(limit = 512): Promise<Module[]> {
    const v = this.version ?? (await this.getVersion());
    const head = v.psLoadedModuleList;
    if (head === 0n) return [];
    const out: Module[] = [];
    let entry = (await this.readVirtual(head, 8)).readBigUInt64LE(0);
    const seen = new Set<bigint>();
    while (entry !== head && entry !== 0n && out.length < limit && !seen.has(entry)) {
      seen.add(entry);
      const e = await this.readVirtual(entry, 0x68);
      const readName = async (off: number): Promise<string> => {
        const len = e.readUInt16LE(off);
        const buf = e.readBigUInt64LE(off + 8);
        if (len === 0 || buf === 0n) return "";
        return (await this.readVirtual(buf, Math.min(len, 1024))).toString("utf16le");
      };
      out.push({
        base: e.readBigUInt64LE(0x30),
        entry: e.readBigUInt64LE(0x38),
        size: e.readUInt32LE(0x40),
        path: await readName(0x48),
        name: await readName(0x58),
      });
      entry = e.readBigUInt64LE(0);
    }
    return out;
  }
}

function apiNameOf(api: number): string {
  switch (api) {
    case Api.ReadVirtualMemory:
      return "ReadVirtualMemory";
    case Api.WriteVirtualMemory:
      return "WriteVirtualMemory";
    case Api.ReadPhysicalMemory:
      return "ReadPhysicalMemory";
    case Api.WritePhysicalMemory:
      return "WritePhysicalMemory";
    default:
      return `API 0x${api.toString(16)}`;
  }
}
