/**
 * KD (DbgKd) packet layer codec: 16-byte header, checksum, packet types, manipulate-state APIs, state changes,
 * debug I/O and file I/O. Pure functions, no I/O.
 *
 * Layouts: radare2/rizin winkd kd.h, VirtualBox's DBGCRemoteKd.cpp and ReactOS's drivers/base/kdnet/kdnet.c, checked against CAP1 (test/fixtures/kdnet/windbg-uncut.pcapng.gz)
 * (windbg-uncut.pcapng.gz: 263/263 data packets' checksums verify; GetVersion, ReadVirtualMemory, GetContext,
 * LoadSymbols and PrintString decode to the values listed in the note).
 *
 * header (LE): leader u32 @0 (0x30303030 data, 0x69696969 control), type u16 @4, byteCount u16 @6, id u32 @8,
 *              checksum u32 @12 (= sum of the data bytes)
 */

export const LEADER_DATA = 0x30303030;
export const LEADER_CONTROL = 0x69696969;
export const KD_HEADER_LEN = 16;
/** A break-in over KDNET is a data datagram with this single byte (RZ winkd_sync; CAP2 38-byte datagram). */
export const BREAKIN_BYTE = 0x62;

export const PacketType = {
  Unused: 0,
  StateChange32: 1,
  StateManipulate: 2,
  DebugIo: 3,
  Acknowledge: 4,
  Resend: 5,
  Reset: 6,
  StateChange64: 7,
  PollBreakin: 8,
  TraceIo: 9,
  ControlRequest: 10,
  FileIo: 11,
} as const;

export const PACKET_TYPE_NAMES: Record<number, string> = {
  0: "UNUSED",
  1: "STATE_CHANGE32",
  2: "STATE_MANIPULATE",
  3: "DEBUG_IO",
  4: "ACKNOWLEDGE",
  5: "RESEND",
  6: "RESET",
  7: "STATE_CHANGE64",
  8: "POLL_BREAKIN",
  9: "TRACE_IO",
  10: "CONTROL_REQUEST",
  11: "FILE_IO",
};

export const Api = {
  ReadVirtualMemory: 0x3130,
  WriteVirtualMemory: 0x3131,
  GetContext: 0x3132,
  SetContext: 0x3133,
  WriteBreakPoint: 0x3134,
  RestoreBreakPoint: 0x3135,
  Continue: 0x3136,
  ReadControlSpace: 0x3137,
  WriteControlSpace: 0x3138,
  ReadIoSpace: 0x3139,
  WriteIoSpace: 0x313a,
  Reboot: 0x313b,
  Continue2: 0x313c,
  ReadPhysicalMemory: 0x313d,
  WritePhysicalMemory: 0x313e,
  GetVersion: 0x3146,
  WriteBreakPointEx: 0x3147,
  RestoreBreakPointEx: 0x3148,
  CauseBugCheck: 0x3149,
  ReadMsr: 0x3152,
  WriteMsr: 0x3153,
  GetContextEx: 0x315f,
  SetContextEx: 0x3160,
  // state change (DBGKD_ANY_WAIT_STATE_CHANGE.NewState)
  StateException: 0x3030,
  StateLoadSymbols: 0x3031,
  StateCommandString: 0x3032,
  // debug I/O
  PrintString: 0x3230,
  GetString: 0x3231,
  // file I/O
  CreateFile: 0x3430,
  ReadFile: 0x3431,
  WriteFile: 0x3432,
  CloseFile: 0x3433,
} as const;

const API_NAMES: Record<number, string> = {
  12592: "ReadVirtualMemory",
  12593: "WriteVirtualMemory",
  12594: "GetContext",
  12595: "SetContext",
  12596: "WriteBreakPoint",
  12597: "RestoreBreakPoint",
  12598: "Continue",
  12599: "ReadControlSpace",
  12600: "WriteControlSpace",
  12601: "ReadIoSpace",
  12602: "WriteIoSpace",
  12603: "Reboot",
  12604: "Continue2",
  12605: "ReadPhysicalMemory",
  12606: "WritePhysicalMemory",
  12607: "QuerySpecialCalls",
  12608: "SetSpecialCall",
  12609: "ClearSpecialCalls",
  12610: "SetInternalBreakPoint",
  12611: "GetInternalBreakPoint",
  12612: "ReadIoSpaceExtended",
  12613: "WriteIoSpaceExtended",
  12614: "GetVersion",
  12615: "WriteBreakPointEx",
  12616: "RestoreBreakPointEx",
  12617: "CauseBugCheck",
  12624: "SwitchProcessor",
  12625: "PageIn",
  12626: "ReadMSR",
  12627: "WriteMSR",
  12630: "SearchMemory",
  12631: "GetBusData",
  12632: "SetBusData",
  12633: "CheckLowMemory",
  12634: "ClearAllInternalBreakpoints",
  12635: "FillMemory",
  12636: "QueryMemory",
  12637: "SwitchPartition",
  12638: "WriteCustomBreakpoint",
  12639: "GetContextEx",
  12640: "SetContextEx",
  12336: "Exception",
  12337: "LoadSymbols",
  12338: "CommandString",
  12848: "PrintString",
  12849: "GetString",
  13360: "CreateFile",
  13361: "ReadFile",
  13362: "WriteFile",
  13363: "CloseFile",
};

export function apiName(n: number): string | undefined {
  return API_NAMES[n];
}

export const STATUS_SUCCESS = 0;
export const STATUS_UNSUCCESSFUL = 0xc0000001;
export const STATUS_NO_SUCH_FILE = 0xc000000f;
export const DBG_CONTINUE = 0x00010002;
export const EXCEPTION_BREAKPOINT = 0x80000003;
export const EXCEPTION_SINGLE_STEP = 0x80000004;

/** AMD64 CONTEXT size (VBOX AssertCompileSize(NTCONTEXT64, 1232); CAP1 GetContext count 1288 = 56 + 1232). */
export const CONTEXT_AMD64_SIZE = 1232;
export const MANIPULATE_HEADER_LEN = 56;
export const STATE_CHANGE_LEN = 240;
export const FILE_IO_HEADER_LEN = 64;

export interface KdPacket {
  leader: number;
  type: number;
  byteCount: number;
  id: number;
  checksum: number;
  /** The data after the header (may be shorter than byteCount when truncated; see `complete`). */
  data: Buffer;
  complete: boolean;
  checksumOk: boolean;
}

export function kdChecksum(data: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < data.length; i++) s = (s + data[i]!) >>> 0;
  return s;
}

export function isControlType(type: number): boolean {
  return type === PacketType.Acknowledge || type === PacketType.Resend || type === PacketType.Reset;
}

/**
 * Parse a KD packet from a data-channel body. Returns undefined for bodies that are not a KD packet (break-in byte,
 * short garbage). The 12-byte UNUSED "hello" a target sends first (CAP1 frame 3) parses with complete = true,
 * checksum 0 and checksumOk = true (it has no checksum field).
 */
export function parseKdPacket(body: Uint8Array): KdPacket | undefined {
  if (body.length < 12) return undefined;
  const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const leader = b.readUInt32LE(0);
  if (leader !== LEADER_DATA && leader !== LEADER_CONTROL && leader !== 0) return undefined;
  const type = b.readUInt16LE(4);
  const byteCount = b.readUInt16LE(6);
  const id = b.readUInt32LE(8);
  if (body.length < KD_HEADER_LEN) {
    // The UNUSED hello: leader 0, type 0, count 0, 12 bytes.
    if (leader === 0 && type === 0 && byteCount === 0) {
      return { leader, type, byteCount, id, checksum: 0, data: Buffer.alloc(0), complete: true, checksumOk: true };
    }
    return undefined;
  }
  const checksum = b.readUInt32LE(12);
  const data = b.subarray(KD_HEADER_LEN, Math.min(b.length, KD_HEADER_LEN + byteCount));
  const complete = data.length === byteCount;
  return { leader, type, byteCount, id, checksum, data, complete, checksumOk: complete && kdChecksum(data) === checksum };
}

export function buildKdPacket(type: number, id: number, data: Uint8Array = Buffer.alloc(0)): Buffer {
  if (data.length > 0xffff) throw new RangeError(`KD packet data too long: ${data.length}`);
  const b = Buffer.alloc(KD_HEADER_LEN + data.length);
  b.writeUInt32LE(isControlType(type) ? LEADER_CONTROL : LEADER_DATA, 0);
  b.writeUInt16LE(type, 4);
  b.writeUInt16LE(data.length, 6);
  b.writeUInt32LE(id >>> 0, 8);
  b.writeUInt32LE(isControlType(type) ? 0 : kdChecksum(data), 12);
  b.set(data, KD_HEADER_LEN);
  return b;
}

// ---- STATE_MANIPULATE: DBGKD_MANIPULATE_STATE64 (56-byte header + data) ----

export interface Manipulate {
  api: number;
  processorLevel: number;
  processor: number;
  status: number;
  /** The 40-byte union at @16. */
  union: Buffer;
  /** Extra data at @56. */
  extra: Buffer;
}

export function parseManipulate(data: Uint8Array): Manipulate | undefined {
  if (data.length < MANIPULATE_HEADER_LEN) return undefined;
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return {
    api: b.readUInt32LE(0),
    processorLevel: b.readUInt16LE(4),
    processor: b.readUInt16LE(6),
    status: b.readUInt32LE(8),
    union: b.subarray(16, 56),
    extra: b.subarray(56),
  };
}

/** Build a manipulate packet's data: `fill` writes the union fields (offsets relative to the packet data). */
export function buildManipulate(
  api: number,
  fill: (b: Buffer) => void,
  extra: Uint8Array = Buffer.alloc(0),
  opts: { processor?: number; status?: number } = {},
): Buffer {
  const b = Buffer.alloc(MANIPULATE_HEADER_LEN + extra.length);
  b.writeUInt32LE(api, 0);
  b.writeUInt16LE(opts.processor ?? 0, 6);
  b.writeUInt32LE(opts.status ?? 0, 8);
  fill(b);
  b.set(extra, MANIPULATE_HEADER_LEN);
  return b;
}

/** Memory-style union (Read/Write Virtual/Physical/ControlSpace): address u64 @16, count u32 @24, actual u32 @28. */
export interface MemoryUnion {
  address: bigint;
  count: number;
  actual: number;
}

export function memoryUnion(data: Uint8Array): MemoryUnion {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return { address: b.readBigUInt64LE(16), count: b.readUInt32LE(24), actual: b.readUInt32LE(28) };
}

export const MEMORY_APIS: ReadonlySet<number> = new Set([
  Api.ReadVirtualMemory,
  Api.WriteVirtualMemory,
  Api.ReadPhysicalMemory,
  Api.WritePhysicalMemory,
  Api.ReadControlSpace,
  Api.WriteControlSpace,
]);

// ---- GET_VERSION64 @16 ----

export interface KdVersion {
  majorVersion: number;
  minorVersion: number;
  protocolVersion: number;
  kdSecondaryVersion: number;
  flags: number;
  machineType: number;
  maxPacketType: number;
  maxStateChange: number;
  maxManipulate: number;
  simulation: number;
  kernBase: bigint;
  psLoadedModuleList: bigint;
  debuggerDataList: bigint;
}

export function parseVersion(data: Uint8Array): KdVersion | undefined {
  if (data.length < 56) return undefined;
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return {
    majorVersion: b.readUInt16LE(16),
    minorVersion: b.readUInt16LE(18),
    protocolVersion: b[20]!,
    kdSecondaryVersion: b[21]!,
    flags: b.readUInt16LE(22),
    machineType: b.readUInt16LE(24),
    maxPacketType: b[26]!,
    maxStateChange: b[27]!,
    maxManipulate: b[28]!,
    simulation: b[29]!,
    kernBase: b.readBigUInt64LE(32),
    psLoadedModuleList: b.readBigUInt64LE(40),
    debuggerDataList: b.readBigUInt64LE(48),
  };
}

export function writeVersion(b: Buffer, v: KdVersion): void {
  b.writeUInt16LE(v.majorVersion, 16);
  b.writeUInt16LE(v.minorVersion, 18);
  b[20] = v.protocolVersion;
  b[21] = v.kdSecondaryVersion;
  b.writeUInt16LE(v.flags, 22);
  b.writeUInt16LE(v.machineType, 24);
  b[26] = v.maxPacketType;
  b[27] = v.maxStateChange;
  b[28] = v.maxManipulate;
  b[29] = v.simulation;
  b.writeBigUInt64LE(v.kernBase, 32);
  b.writeBigUInt64LE(v.psLoadedModuleList, 40);
  b.writeBigUInt64LE(v.debuggerDataList, 48);
}

// ---- STATE_CHANGE64: DBGKD_ANY_WAIT_STATE_CHANGE (240 bytes + string) ----

export type StateChange =
  | {
      kind: "exception";
      processor: number;
      processors: number;
      thread: bigint;
      pc: bigint;
      code: number;
      address: bigint;
      firstChance: boolean;
    }
  | {
      kind: "load-symbols";
      processor: number;
      processors: number;
      thread: bigint;
      pc: bigint;
      base: bigint;
      size: number;
      unload: boolean;
      path: string;
    }
  | { kind: "other"; newState: number; processor: number; processors: number; thread: bigint; pc: bigint };

export function parseStateChange(data: Uint8Array): StateChange | undefined {
  if (data.length < STATE_CHANGE_LEN) return undefined;
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const newState = b.readUInt32LE(0);
  const common = {
    processor: b.readUInt16LE(6),
    processors: b.readUInt32LE(8),
    thread: b.readBigUInt64LE(16),
    pc: b.readBigUInt64LE(24),
  };
  if (newState === Api.StateException) {
    return {
      kind: "exception",
      ...common,
      code: b.readUInt32LE(32),
      address: b.readBigUInt64LE(48),
      firstChance: b.readUInt32LE(184) !== 0,
    };
  }
  if (newState === Api.StateLoadSymbols) {
    const tail = b.subarray(STATE_CHANGE_LEN);
    const nul = tail.indexOf(0);
    return {
      kind: "load-symbols",
      ...common,
      base: b.readBigUInt64LE(40),
      size: b.readUInt32LE(60),
      unload: b[64] !== 0,
      path: tail.subarray(0, nul < 0 ? tail.length : nul).toString("latin1"),
    };
  }
  return { kind: "other", newState, ...common };
}

export function buildStateChange(s: StateChange): Buffer {
  const path = s.kind === "load-symbols" ? Buffer.from(`${s.path}\0`, "latin1") : Buffer.alloc(0);
  const b = Buffer.alloc(STATE_CHANGE_LEN + path.length);
  b.writeUInt32LE(s.kind === "exception" ? Api.StateException : s.kind === "load-symbols" ? Api.StateLoadSymbols : s.newState, 0);
  b.writeUInt16LE(s.processor, 6);
  b.writeUInt32LE(s.processors, 8);
  b.writeBigUInt64LE(s.thread, 16);
  b.writeBigUInt64LE(s.pc, 24);
  if (s.kind === "exception") {
    b.writeUInt32LE(s.code, 32);
    b.writeBigUInt64LE(s.address, 48);
    b.writeUInt32LE(s.firstChance ? 1 : 0, 184);
  } else if (s.kind === "load-symbols") {
    b.writeUInt32LE(path.length, 32);
    b.writeBigUInt64LE(s.base, 40);
    b.writeUInt32LE(s.size, 60);
    b[64] = s.unload ? 1 : 0;
  }
  path.copy(b, STATE_CHANGE_LEN);
  return b;
}

// ---- DEBUG_IO ----

export type DebugIo = { kind: "print"; text: string } | { kind: "get-string"; prompt: string; maxLength: number };

export function parseDebugIo(data: Uint8Array): DebugIo | undefined {
  if (data.length < 16) return undefined;
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const api = b.readUInt32LE(0);
  const len = b.readUInt32LE(8);
  const text = b.subarray(16, 16 + Math.min(len, b.length - 16)).toString("latin1");
  if (api === Api.PrintString) return { kind: "print", text };
  if (api === Api.GetString) return { kind: "get-string", prompt: text, maxLength: b.readUInt32LE(12) };
  return undefined;
}

export function buildDebugIoPrint(text: string): Buffer {
  const s = Buffer.from(text, "latin1");
  const b = Buffer.alloc(16 + s.length);
  b.writeUInt32LE(Api.PrintString, 0);
  b.writeUInt32LE(s.length, 8);
  s.copy(b, 16);
  return b;
}

/** Host reply to GetString: same header with LengthOfStringRead set and the string. */
export function buildDebugIoGetStringReply(request: Uint8Array, answer: string): Buffer {
  const s = Buffer.from(`${answer}\0`, "latin1");
  const b = Buffer.alloc(16 + s.length);
  Buffer.from(request.buffer, request.byteOffset, 16).copy(b, 0, 0, 16);
  b.writeUInt32LE(s.length, 12);
  s.copy(b, 16);
  return b;
}

// ---- FILE_IO ----

export function parseFileIo(data: Uint8Array): { api: number; status: number; path?: string } | undefined {
  if (data.length < FILE_IO_HEADER_LEN) return undefined;
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const api = b.readUInt32LE(0);
  const status = b.readUInt32LE(4);
  if (api === Api.CreateFile && b.length > FILE_IO_HEADER_LEN) {
    const raw = b.subarray(FILE_IO_HEADER_LEN, FILE_IO_HEADER_LEN + ((b.length - FILE_IO_HEADER_LEN) & ~1));
    const s = raw.toString("utf16le");
    const nul = s.indexOf("\0");
    return { api, status, path: nul < 0 ? s : s.slice(0, nul) };
  }
  return { api, status };
}

/** The host's answer to a File-I/O request: the 64-byte header echoed with Status set (RZ do_io_reply, CAP1 236/238). */
export function buildFileIoReply(request: Uint8Array, status = STATUS_NO_SUCH_FILE): Buffer {
  const b = Buffer.alloc(FILE_IO_HEADER_LEN);
  Buffer.from(request.buffer, request.byteOffset, Math.min(request.byteLength, FILE_IO_HEADER_LEN)).copy(b);
  b.writeUInt32LE(status >>> 0, 4);
  return b;
}
