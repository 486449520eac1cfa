/** Public library surface of netdbg (the CLI is bin/netdbg.js). */
export { NetdbgError, isNetdbgError } from "./core/error.js";
export { parseKdnetKey, generateKdnetKey, formatKdnetKey, kdnetControlKey, kdnetHmacKey } from "./core/kdnet-key.js";
export { shQuote, shCommand, psQuote, psEncodedCommand } from "./core/quote.js";
export { KdnetHostSession, type HostEvent, type HostSessionOptions } from "./engine/kdnet/session.js";
export { KdClient, type Module as KdModule } from "./engine/kdnet/api.js";
export { decodeCapture } from "./engine/kdnet/decode.js";
export { readUdpCapture } from "./engine/kdnet/capture.js";
export { listenForPokes, type PokeSource } from "./engine/kdnet/listen.js";
export { openUdp } from "./engine/kdnet/udp.js";
