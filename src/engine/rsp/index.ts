export { RspClient, type RspClientOptions } from "./client.js";
export { LAYOUTS, SPECIAL } from "./registers.js";
export { GdbRemote, type StopReply } from "./remote.js";
export { RspBridge } from "./bridge.js";
