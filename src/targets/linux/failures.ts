/**
 * Module-load failure classification: kernel and kgdboe text → one stable NETDBG code per cause.
 * Patterns come from the strings in sysprogs/kgdboe d4b4f22 and the kernel refusals listed in
 * sysprogs/kgdboe (kgdboe_main.c, netpoll_wrapper.c at d4b4f22) and the kernel's kernel/debug/debug_core.c (old and new kernel wording), plus the real build log in
 * test/fixtures/linux/kgdboe-build-fail-debian12-no-kgdb.txt.
 */
import { type NetdbgError, netdbgError } from "../../core/error.js";
import type { CatalogCode } from "../../core/errors/index.js";
import { kmsgLines } from "./kmsg.js";

export type FailureCode =
  | "E300"
  | "E320"
  | "E321"
  | "E322"
  | "E323"
  | "E324"
  | "E325"
  | "E326"
  | "E327"
  | "E328"
  | "E329"
  | "E330"
  | "E331"
  | "E332"
  | "E333"
  | "E334"
  | "E335"
  | "E339";

interface Pattern {
  code: FailureCode;
  re: RegExp;
  /** Generic lines (insmod's errno text) lose to any specific line. */
  generic?: boolean;
}

export const FAILURE_PATTERNS: readonly Pattern[] = [
  // build: the kernel has no KGDB (kgdboe_main.c / nethook.c #error)
  { code: "E300", re: /#error Your kernel is built without support for KGDB/ },
  { code: "E300", re: /#error kgdboe requires kgdb support/ },
  // lockdown (A2, A6.2)
  { code: "E320", re: /Lockdown: [^:]+: unsigned module loading is restricted/ },
  { code: "E320", re: /Lockdown: [^:]+: use of kgdb\/kdb to write kernel RAM is restricted/ },
  // signatures (A2, A12): Debian/Fedora wording, openSUSE wording, unsigned + enforced
  { code: "E321", re: /Loading of module with unavailable key is rejected/ },
  { code: "E321", re: /Loading of unsigned module is rejected/ },
  { code: "E321", re: /Key was rejected by service/ },
  { code: "E321", re: /Required key not available/ },
  // kgdboe's own failure lines (A2)
  { code: "E322", re: /requires specifying the address of kallsyms_lookup_name/ },
  { code: "E327", re: /Missing tracepoints for netif_receive_skb/ },
  { code: "E323", re: /Cannot find network device by name:/ },
  { code: "E333", re: /Invalid local IP:/ },
  { code: "E324", re: /does not have an? in_device associated/ },
  { code: "E324", re: /does not have an? in_ifaddr struct associated/ },
  { code: "E325", re: /Failed to register rx handler for/ },
  { code: "E326", re: /doesn't support polling, aborting/ },
  { code: "E326", re: /Failed to setup netpoll for/ },
  { code: "E328", re: /Cannot find (?:netpoll_poll_dev|zap_completion_queue)\(\)/ },
  { code: "E328", re: /could not find the (?:irq_to_desc|__module_address) symbol/ },
  { code: "E328", re: /modpost: "kallsyms_lookup_name" \[.*\] undefined!/ },
  { code: "E328", re: /kgdboe: Unknown symbol / },
  { code: "E329", re: /failed to enable the single-CPU mode/ },
  { code: "E330", re: /failed to guarantee cross-CPU network API synchronization/ },
  { code: "E330", re: /cannot find the module owning / },
  { code: "E330", re: /failed to take control over IRQ/ },
  { code: "E330", re: /failed to hook TX queue/ },
  { code: "E330", re: /ndo_start_xmit not defined/ },
  // IBT oops at insmod (A6.1)
  { code: "E331", re: /Missing ENDBR: / },
  { code: "E331", re: /kernel BUG at arch\/x86\/kernel\/cet\.c/ },
  // another KGDB I/O driver (>=5.8 and older wording)
  { code: "E332", re: /KGDB I\/O driver \S+ can't replace / },
  { code: "E332", re: /Another I\/O driver is already registered with KGDB/ },
  // module built for another kernel
  { code: "E335", re: /kgdboe: disagrees about version of symbol / },
  { code: "E335", re: /kgdboe: version magic '[^']*' should be / },
  { code: "E335", re: /could not insert module .*: Invalid module format/, generic: true },
  // generic insmod / kernel param errors
  { code: "E334", re: /kgdboe: (?:'[^']*' invalid for parameter|Unknown parameter `)/ },
  { code: "E334", re: /could not insert module .*: Invalid (?:parameters|argument)/, generic: true },
  { code: "E320", re: /could not insert module .*: Operation not permitted/, generic: true },
];

/** Lines that look alarming but are not failures (A2, A12): never classified. */
const NOT_FAILURES: readonly RegExp[] = [
  /module verification failed: signature and\/or required key missing - tainting kernel/,
  /loading out-of-tree module taints kernel/,
  /cannot find and hook jiffies_lock/,
];

export interface FailureMatch {
  code: `NETDBG-${FailureCode}`;
  line: string;
  generic: boolean;
}

export function matchFailureLine(line: string): FailureMatch | undefined {
  if (NOT_FAILURES.some((r) => r.test(line))) return undefined;
  for (const p of FAILURE_PATTERNS) {
    if (p.re.test(line)) return { code: `NETDBG-${p.code}`, line, generic: p.generic === true };
  }
  return undefined;
}

export interface ClassifiedFailure {
  code: string;
  message: string;
  fix: string;
}

/** The line an unknown failure is reported by: the last kgdboe / insmod / error line, else the last line. */
function salientLine(lines: string[]): string {
  for (let i = lines.length - 1; i >= 0; i--) if (/kgdboe|insmod|modprobe|error|fail/i.test(lines[i]!)) return lines[i]!;
  return lines.at(-1) ?? "";
}

/**
 * Classify pasted insmod stderr and/or kernel log text (with or without timestamps) into one coded cause with
 * its message and fix. Specific lines win over insmod's generic errno text; text nobody knows keeps its own
 * code (NETDBG-E339) and quotes its most telling line.
 */
export function classifyModuleLoadFailure(text: string): ClassifiedFailure {
  const e = moduleLoadError(text);
  return { code: e.code, message: e.message, fix: e.fix };
}

/** The same classification as a throwable coded error. */
export function moduleLoadError(text: string): NetdbgError {
  const lines = kmsgLines(text);
  const matches = lines.map(matchFailureLine).filter((m): m is FailureMatch => m !== undefined);
  const best = matches.find((m) => !m.generic) ?? matches[0];
  const code = (best ? best.code.slice("NETDBG-".length) : "E339") as FailureCode;
  const line = best?.line ?? salientLine(lines);
  return code === "E300"
    ? netdbgError("E300", { source: "the kgdboe build (#error)" })
    : code === "E323"
      ? netdbgError("E323", { line, ...deviceOf(line) })
      : netdbgError(code as Exclude<FailureCode, "E300" | "E323"> & CatalogCode, { line });
}

function deviceOf(line: string): { device?: string } {
  const m = /Cannot find network device by name: (\S+)/.exec(line);
  return m ? { device: m[1]! } : {};
}
