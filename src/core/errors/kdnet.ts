import { defineErrors } from "./types.js";

/** Errors of the KDNET / KD engine. Code range: CODE_RANGES in index.ts. */
export const kdnetErrors = defineErrors({
  E500: {
    title: "Capture file unreadable",
    exit: "usage",
    message: (p: { file: string; reason: string }) => `The capture ${p.file} cannot be read: ${p.reason}.`,
    fix: () => "Pass a pcap or pcapng file (optionally .gz), e.g. one written by 'tcpdump -w' or Wireshark.",
  },
  E501: {
    title: "No KDNET datagrams in capture",
    exit: "check",
    message: (p: { file: string; udp: number }) =>
      `The capture ${p.file} holds ${p.udp} UDP datagram(s) but none is KDNET (magic 'MDBG').`,
    fix: () => "Capture on the host's debug port (e.g. 'tcpdump -i any -w kd.pcap udp port 50000') while the target boots.",
  },
  E502: {
    title: "No poke from the target",
    exit: "environment",
    message: (p: { port: number; seconds: number }) =>
      `No KDNET poke reached UDP port ${p.port} within ${p.seconds} s, so the target is not trying to connect to this host.`,
    fix: (p: { target?: string }) =>
      `Check that the target is configured for this host's address and port (netdbg doctor${p.target ? ` ${p.target}` : ""}), that it has rebooted since 'bcdedit /dbgsettings', and that the host firewall lets UDP in.`,
  },
  E503: {
    title: "Wrong KDNET key",
    exit: "check",
    message: (p: { from: string; port: number }) =>
      `Pokes from ${p.from} reach port ${p.port} but do not authenticate with the stored key: target and host keys differ.`,
    fix: (p: { target?: string }) =>
      `Store the key the target uses (bcdedit /dbgsettings on the target shows it) with 'netdbg keys set${p.target ? ` ${p.target}` : " <target>"} <key>', or run setup again to give the target the stored key.`,
  },
  E504: {
    title: "Target stopped answering",
    exit: "environment",
    message: (p: { what: string; tries: number }) =>
      `The target did not answer ${p.what} after ${p.tries} tries: the debug connection seems lost.`,
    fix: () =>
      "Check that the target is still running and reachable (it may have rebooted or hung); reconnect with 'netdbg connect <target>'.",
  },
  E505: {
    title: "KD request failed on the target",
    exit: "check",
    message: (p: { api: string; status: string; detail?: string }) =>
      `The target refused ${p.api} with status ${p.status}${p.detail ? ` (${p.detail})` : ""}.`,
    fix: () => "Check the address or argument (is the memory paged in and mapped?), then try again.",
  },
  E506: {
    title: "UDP port unavailable",
    exit: "environment",
    message: (p: { port: number; address: string; reason: string; holder?: string }) =>
      `netdbg cannot listen on UDP ${p.address} port ${p.port}: ${p.reason}${p.holder ? ` (held by ${p.holder})` : ""}.`,
    fix: () =>
      "Close the other debugger listening there (WinDbg, kd, another netdbg), or choose another port with --port and give it to the target.",
  },
  E507: {
    title: "Debugger command not understood",
    exit: "usage",
    message: (p: { command: string; reason: string }) => `The debugger command '${p.command}' is not valid: ${p.reason}.`,
    fix: () => "Type 'help' for the commands: version, lm, r, db, dq, eb, eq, bp, bl, bc, g, t, break, .dump, .reboot.",
  },
  E508: {
    title: "Session lost during a request",
    exit: "environment",
    message: (p: { what: string; reason: string }) => `${p.what} was interrupted: ${p.reason}.`,
    fix: () => "The target restarted or closed the session; wait for it to connect again, then repeat the command.",
  },
  E509: {
    title: "Target is running",
    exit: "usage",
    message: (p: { what: string }) => `${p.what} needs the target stopped in the debugger, but it is running.`,
    fix: () => "Break in first ('break'), or wait for a breakpoint to hit.",
  },
  E511: {
    title: "Not a Windows target",
    exit: "usage",
    message: (p: { name: string; os: string }) => `Target '${p.name}' is a ${p.os} target, not a Windows (KDNET) one.`,
    fix: () => "Use 'netdbg gdb <target>' or 'netdbg connect <target>' for Linux targets.",
  },
  E512: {
    title: "Pokes come from another address",
    exit: "check",
    message: (p: { name: string; expected: string; seen: string; port: number }) =>
      `KDNET pokes reach port ${p.port} from ${p.seen}, but '${p.name}' pokes from ${p.expected} as far as the inventory knows, so netdbg ignored them.`,
    fix: (p: { name: string; seen: string }) =>
      `In the debug boot Windows sends KDNET from the debug adapter's own address (DHCP or 169.254.x.x), not the NIC's SSH address: do not change '${p.name}''s address (SSH needs it). Run 'netdbg setup ${p.name} --reboot' again, which records the address it sees from a poke signed with the target's key; if ${p.seen} is not ${p.name}, another machine pokes this port: give ${p.name} its own port.`,
  },
  E513: {
    title: "Target did not stop",
    exit: "environment",
    message: (p: { seconds: number }) => `The target did not report a stop (break-in, breakpoint or step) within ${p.seconds} s.`,
    fix: () => "It may be hung with interrupts off, or rebooting; try 'break' again, look at the target's console, or reconnect.",
  },
});
