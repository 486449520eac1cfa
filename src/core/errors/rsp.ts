import { defineErrors } from "./types.js";

/** Errors of the GDB RSP engine. Code range: CODE_RANGES in index.ts. */
export const rspErrors = defineErrors({
  E400: {
    title: "Target not answering the GDB remote protocol",
    exit: "environment",
    message: (p: { endpoint: string; request: string; tries: number; diagnosis: string }) =>
      `No valid reply from ${p.endpoint} to '${p.request}' after ${p.tries} tries: ${p.diagnosis}.`,
    fix: () =>
      "Check that the target is in the debugger (kgdboe loaded, or break in with sysrq-g), that the host firewall lets the UDP port through, and that no other debugger is attached; then connect again.",
  },
  E401: {
    title: "Connection to the debug endpoint failed",
    exit: "environment",
    message: (p: { endpoint: string; reason: string }) => `Could not open ${p.endpoint}: ${p.reason}.`,
    fix: () =>
      "Check the address and port (for TCP: is gdbserver/the stub listening?; for UDP: is the local port free?), then try again.",
  },
  E402: {
    title: "Target refused a debugger request",
    exit: "check",
    message: (p: { request: string; reply: string; meaning: string }) =>
      `The target answered '${p.reply}' to '${p.request}' (${p.meaning}).`,
    fix: (p: { hint?: string }) => p.hint ?? "Check the address or argument; unmapped or read-only memory gives E14/E22 on kgdb.",
  },
  E403: {
    title: "Malformed endpoint",
    exit: "usage",
    message: (p: { value: string }) => `'${p.value}' is not a debug endpoint.`,
    fix: () => "Write udp:HOST:PORT, udp:HOST:PORT@LOCALPORT (bind a fixed local port) or tcp:HOST:PORT.",
  },
  E404: {
    title: "Unknown symbol",
    exit: "usage",
    message: (p: { name: string; source: string }) => `No symbol '${p.name}' in ${p.source}.`,
    fix: () => "Give an address (0x…), or pass --vmlinux with the kernel image built for this target (with its symbol table).",
  },
  E405: {
    title: "Not a usable ELF64 image",
    exit: "usage",
    message: (p: { file: string; problem: string }) => `Cannot read symbols from ${p.file}: ${p.problem}.`,
    fix: () => "Pass the unstripped vmlinux (ELF64, with .symtab) that matches the running kernel, not bzImage or vmlinuz.",
  },
  E406: {
    title: "Connection to the target closed",
    exit: "environment",
    message: (p: { endpoint: string }) => `The connection to ${p.endpoint} closed while netdbg was waiting for the target.`,
    fix: () => "Check that the target (or gdbserver/relay) is still running, then connect again.",
  },
  E407: {
    title: "Request not supported by the target",
    exit: "check",
    message: (p: { request: string }) => `The target does not support '${p.request}' (empty reply).`,
    fix: (p: { hint?: string }) => p.hint ?? "Use another command; kgdb implements only the core of the protocol.",
  },
  E408: {
    title: "Invalid debugger command",
    exit: "usage",
    message: (p: { input: string; reason: string }) => `Cannot run '${p.input}': ${p.reason}.`,
    fix: () =>
      "Type 'help' for the commands (regs, x/<n><fmt> ADDR, break, delete, continue, step, bt, threads, dump, detach, quit).",
  },
  E409: {
    title: "Unexpected reply from the target",
    exit: "environment",
    message: (p: { request: string; reply: string }) => `The target sent an unexpected reply '${p.reply}' to '${p.request}'.`,
    fix: () => "Another debugger may be talking to the same target; disconnect it and connect again.",
  },
  E410: {
    title: "No endpoint for the target",
    exit: "usage",
    message: (p: { target: string }) => `Target '${p.target}' has no address netdbg can use for kgdboe.`,
    fix: () => "Pass --endpoint udp:HOST:PORT, or set the target's address (and transport.targetPort) in the inventory.",
  },
  E411: {
    title: "Memory reads of the same range disagree",
    exit: "environment",
    message: (p: { address: string; length: number; reads: number }) =>
      `${p.reads} reads of ${p.length} bytes at ${p.address} never returned the same bytes twice: the link damages replies in ways the protocol's checksum cannot see.`,
    fix: () =>
      "The memory may be changing under the debugger (device memory, another CPU still running), or the network reorders and damages datagrams: read again, or use a direct link with less loss.",
  },
  E450: {
    title: "Could not break into the kernel over SSH",
    exit: "environment",
    message: (p: { target: string; reason: string }) =>
      `SysRq-g over SSH on '${p.target}' failed (echo g > /proc/sysrq-trigger): ${p.reason}.`,
    fix: () =>
      "Log in as root, or give the SSH user passwordless sudo for it; check that /proc/sysrq-trigger exists (CONFIG_MAGIC_SYSRQ). Or stop the kernel yourself (Alt-SysRq-G on its console) and connect with --break-in none.",
  },
});
