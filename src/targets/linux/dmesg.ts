/**
 * kgdboe's kernel log, parsed. Success and failure strings from sysprogs/kgdboe d4b4f22 and the real capture
 * quoted in sysprogs/kgdboe#7 (kernel 5.6); `kgdb: Registered I/O driver
 * kgdboe.` is the pre-pr_fmt wording (3.10, #6); `KGDB: Unregistered I/O driver kgdboe, debugger disabled`
 * is kernel/debug/debug_core.c's unregister line.
 */
import { matchFailureLine } from "./failures.js";
import { kmsgLines } from "./kmsg.js";

export interface KgdboeDmesg {
  /** The last load attempt in the text succeeded and the module was not unregistered afterwards. */
  loaded: boolean;
  /** From `target remote udp:IP:PORT`. */
  udpTarget?: { host: string; port: number };
  /** `netpoll: kgdboe: local IP …` */
  localIp?: string;
  /** true: single-core mode (CPUs offlined or only one CPU); false: SMP hooking mode. */
  singleCore?: boolean;
  failures: { code: string; line: string }[];
  warnings: string[];
}

const ATTACH = /target remote udp:(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})\b/;
const SUCCESS = /kgdboe: Successfully initialized/;
const REGISTERED = /^(?:KGDB|kgdb): Registered I\/O driver kgdboe\.?$/;
const UNREGISTERED = /(?:KGDB|kgdb): Unregistered I\/O driver kgdboe/;
const LOCAL_IP = /netpoll: kgdboe: local IP (\S+)/;

export function parseKgdboeDmesg(text: string): KgdboeDmesg {
  const out: KgdboeDmesg = { loaded: false, failures: [], warnings: [] };
  let registered = false;
  for (const line of kmsgLines(text)) {
    const f = matchFailureLine(line);
    if (f) {
      out.failures.push({ code: f.code, line });
      out.loaded = false;
      registered = false;
      continue;
    }
    if (/cannot find and hook jiffies_lock/.test(line)) out.warnings.push(line);
    const ip = LOCAL_IP.exec(line);
    if (ip) out.localIp = ip[1]!;
    if (/single-core mode enabled|only one active CPU found/.test(line)) out.singleCore = true;
    // upstream kgdboe's multi-core line, and the bundled module's, which says it hooks nothing
    if (/your kernel has been hooked to avoid deadlocks|multi-core mode: no driver is hooked/.test(line)) out.singleCore = false;
    if (REGISTERED.test(line)) registered = true;
    if (SUCCESS.test(line)) out.loaded = true;
    const at = ATTACH.exec(line);
    if (at) {
      out.udpTarget = { host: at[1]!, port: Number(at[2]) };
      out.loaded = true;
    }
    if (UNREGISTERED.test(line)) {
      out.loaded = false;
      registered = false;
    }
  }
  // An older kgdboe that prints only the register line still counts as loaded.
  if (!out.loaded && registered && out.failures.length === 0) out.loaded = true;
  return out;
}
