export { isStopReply, RspClient, type RspClientOptions, type RspStats } from "./client.js";
export { checksum, decodeBody, escapeBinary, framePacket, PacketParser, type RspEvent } from "./packet.js";
export { type Arch, LAYOUTS, parseRegisters, type Registers, SPECIAL } from "./registers.js";
export { GdbRemote, KGDB_MAX_MEM, parseStopReply, type StopReply } from "./remote.js";
export { type BridgeOptions, RspBridge } from "./bridge.js";
