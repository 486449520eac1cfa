/** Public library surface of netdbg (the CLI is bin/netdbg.js). */
export { NetdbgError, isNetdbgError } from "./core/error.js";
export { parseKdnetKey, generateKdnetKey, formatKdnetKey, kdnetControlKey, kdnetHmacKey } from "./core/kdnet-key.js";
export { shQuote, shCommand, psQuote, psEncodedCommand } from "./core/quote.js";
