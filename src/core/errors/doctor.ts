import { defineErrors } from "./types.js";

/**
 * Doctor findings (code range: CODE_RANGES in index.ts): what `netdbg doctor` reports that no other area's error already names. Every
 * doctor check also links its page under docs/doctor/<check-id>.md. Checks whose finding is an existing stop of
 * another area (E300 kernel without KGDB, E201 Secure Boot on, E130 IPsec…) report that code instead.
 */
export const doctorErrors = defineErrors({
  E700: {
    title: "Host firewall drops the target's UDP",
    exit: "check",
    message: (p: { target: string; from: string; host: string; port: number }) =>
      `A UDP datagram sent from '${p.target}' (${p.from}) to ${p.host} port ${p.port} did not arrive while netdbg listened on that port, so the host firewall (or something on the path) drops the debug traffic.`,
    fix: (p: { target: string; port: number }) =>
      `Open the port for the target with 'netdbg host firewall open ${p.target}' (or allow inbound UDP ${p.port} from the target in your firewall), then run 'netdbg doctor ${p.target}' again.`,
  },
  E701: {
    title: "No host firewall rule for the target",
    exit: "check",
    message: (p: { port: number; frontEnds: string; address: string }) =>
      `The active host firewall (${p.frontEnds}) has no rule that lets UDP port ${p.port} in from ${p.address}.`,
    fix: (p: { target: string }) =>
      `Run 'netdbg host firewall open ${p.target}' (read-only check: 'netdbg host firewall status ${p.target}').`,
  },
  E702: {
    title: "Target is too many hops away",
    exit: "check",
    message: (p: { hops: number; address: string }) =>
      `${p.address} is about ${p.hops} routers away; KDNET sends its datagrams with TTL 16, so they expire before reaching this host.`,
    fix: () => "Debug from a host on the target's network (or at most 15 routers away), e.g. a jump machine next to the target.",
  },
  E703: {
    title: "SSH to the target failed",
    exit: "environment",
    message: (p: { target: string; reason: string }) =>
      `netdbg could not open an SSH session to '${p.target}': ${p.reason}. The checks that read the target were skipped.`,
    fix: (p: { target: string }) =>
      `Check the target's ssh settings with 'netdbg targets show ${p.target}' (user, port, identity file) and that 'ssh' reaches it, then run doctor again.`,
  },
  E704: {
    title: "KDNET pokes do not authenticate",
    exit: "check",
    message: (p: { target: string; from: string; port: number }) =>
      `KDNET pokes from ${p.from} reach UDP port ${p.port}, but they do not authenticate with the key stored for '${p.target}': the target uses another key.`,
    fix: (p: { target: string }) =>
      `Compare 'netdbg keys show ${p.target}' with the key in 'bcdedit /dbgsettings' on the target; run 'netdbg setup ${p.target}' again to give the target the stored key (then reboot it).`,
  },
  E705: {
    title: "KDNET pokes go to another port",
    exit: "check",
    message: (p: { target: string; port: number; other: number }) =>
      `'${p.target}' pokes UDP port ${p.other} on this host, but the inventory says its debug port is ${p.port}.`,
    fix: (p: { target: string; port: number; other: number }) =>
      `Run 'netdbg setup ${p.target}' again to write the inventory's port ${p.port} into its dbgsettings (then reboot it), or make the inventory follow the target with 'netdbg targets edit ${p.target} --port ${p.other}'.`,
  },
  E706: {
    title: "Target's debug settings name another host address",
    exit: "check",
    message: (p: { target: string; configured: string; expected: string }) =>
      `The dbgsettings of '${p.target}' send KDNET to ${p.configured}, but this host is ${p.expected} as seen from the target, so its pokes never arrive here.`,
    fix: (p: { target: string }) =>
      `Run 'netdbg setup ${p.target}' again (or with --host-ip <this host's address>) and reboot the target.`,
  },
  E707: {
    title: "Target not booted into the debug entry",
    exit: "check",
    message: (p: { target: string; entry: string }) =>
      `'${p.target}' is running boot entry ${p.entry}, which does not have debugging on, so KDNET is not running and sends no pokes.`,
    fix: (p: { target: string }) =>
      `Restart the target into the netdbg debug entry ('netdbg setup ${p.target} --reboot' does a one-time boot into it).`,
  },
  E708: {
    title: "No KDNET poke arrived",
    exit: "check",
    message: (p: { target: string; port: number; seconds: number }) =>
      `No KDNET poke from '${p.target}' reached UDP port ${p.port} on this host within ${p.seconds} s.`,
    fix: (p: { target: string }) =>
      `Check that the target has rebooted since setup and runs the debug entry, that it is not already attached to another debugger, and that the host firewall lets UDP in from ${p.target} (the host.firewall check); 'netdbg kdnet listen <port>' shows any poke that arrives.`,
  },
  E709: {
    title: "Target's debug settings differ from the inventory",
    exit: "check",
    message: (p: { target: string; differences: string }) =>
      `The dbgsettings on '${p.target}' do not match the inventory: ${p.differences}.`,
    fix: (p: { target: string }) => `Run 'netdbg setup ${p.target}' again, then reboot the target.`,
  },
  E710: {
    title: "kgdboe is not loaded",
    exit: "check",
    message: (p: { target: string }) =>
      `The kgdboe module is not loaded on '${p.target}', so there is no debugger stub to attach to.`,
    fix: (p: { target: string }) => `Run 'netdbg setup ${p.target}' (add --persist to load it at every boot).`,
  },
  E711: {
    title: "kgdboe does not answer",
    exit: "check",
    message: (p: { target: string; endpoint: string; reason: string }) =>
      `kgdboe is loaded on '${p.target}' but did not answer a GDB remote exchange at ${p.endpoint}: ${p.reason}.`,
    fix: (p: { target: string }) =>
      `Check that the module's udp_port matches the inventory's targetPort, that no other debugger is attached, and that UDP reaches the target; 'netdbg setup ${p.target}' reloads it, 'dmesg | grep kgdboe' on the target shows why it stopped.`,
  },
  E714: {
    title: "Target never set up from this host",
    exit: "check",
    message: (p: { target: string; detail: string; hint?: string }) =>
      `'${p.target}' has no record of a netdbg setup on this host (no change journal)${p.detail}, so there is nothing to debug through yet.`,
    fix: (p: { target: string; hint?: string }) =>
      `Run 'netdbg setup ${p.target}' (add --check first to see every command it would run).${p.hint ?? ""}`,
  },
  E715: {
    title: "Nothing to check",
    exit: "usage",
    message: () => "The inventory has no targets, so doctor has nothing to check.",
    fix: () =>
      "Record a target with 'netdbg targets add <name> --os windows|linux --address <addr>' (or run 'netdbg setup' and answer its questions), or name the inventory with --state-dir.",
  },
  E712: {
    title: "Round trip too slow for comfortable debugging",
    exit: "check",
    message: (p: { ms: string; rate: string }) =>
      `The round trip to the target takes ${p.ms} ms; the debug protocols are stop-and-wait, so memory reads run at about ${p.rate}.`,
    fix: () => "Debug from a host closer to the target (same switch) for faster dumps; everything still works, only slower.",
  },
  E713: {
    title: "kgdboe listens on another port",
    exit: "check",
    message: (p: { target: string; loaded: string; expected: number }) =>
      `kgdboe on '${p.target}' listens on UDP port ${p.loaded}, but the inventory says ${p.expected}.`,
    fix: (p: { target: string }) =>
      `Run 'netdbg setup ${p.target}' again to reload it with the inventory's port, or edit the inventory's transport.targetPort.`,
  },
});
