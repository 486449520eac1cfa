import { defineErrors } from "./types.js";

/** Errors of the built-in lab. Code range: CODE_RANGES in index.ts. */
export const labErrors = defineErrors({
  E600: {
    title: "Lab host is not Debian",
    exit: "environment",
    message: (p: { reason: string }) =>
      `The built-in lab needs a Debian 12 (bookworm) or 13 (trixie) host with apt and dpkg: ${p.reason}.`,
    fix: () => "Run 'netdbg lab' on a Debian 12 or 13 machine (a VM or container with root is fine).",
  },
  E601: {
    title: "Lab tools missing",
    exit: "environment",
    message: (p: { missing: string; packages: string }) => `The lab needs tools that are not installed: ${p.missing}.`,
    fix: (p: { missing: string; packages: string }) =>
      `Install them with 'apt-get install ${p.packages}', then run the command again.`,
  },
  E602: {
    title: "Lab build step failed",
    exit: "environment",
    message: (p: { step: string; command: string; detail: string }) =>
      `Building the lab failed at '${p.step}': '${p.command}' ${p.detail}.`,
    fix: (p: { log: string }) => `Read ${p.log} for the full output, fix the cause, then run 'netdbg lab build' again.`,
  },
  E603: {
    title: "Lab already running",
    exit: "check",
    message: (p: { variant: string; address: string }) => `The lab is already running (variant ${p.variant}, at ${p.address}).`,
    fix: () => "Use it as it is ('netdbg lab status'), or run 'netdbg lab down' first to start another variant.",
  },
  E604: {
    title: "Lab not running",
    exit: "check",
    message: () => "The lab is not running.",
    fix: () => "Start it with 'netdbg lab up' (add '--variant stock' for the stock Debian kernel).",
  },
  E605: {
    title: "Lab did not come up",
    exit: "environment",
    message: (p: { what: string; seconds: number }) => `The lab VM did not become reachable (${p.what}) within ${p.seconds} s.`,
    fix: (p: { console: string }) =>
      `Read the guest's console log ${p.console} for the cause, then run 'netdbg lab down' and 'netdbg lab up' again.`,
  },
  E606: {
    title: "Lab subnet already in use",
    exit: "environment",
    message: (p: { subnet: string; route: string }) =>
      `The lab's private subnet ${p.subnet} overlaps a route that already exists on this machine: ${p.route}.`,
    fix: () => "Pick a free subnet with 'netdbg lab up --subnet 10.X.Y.0/30', or remove the conflicting route.",
  },
  E607: {
    title: "Invalid lab option",
    exit: "usage",
    message: (p: { option: string; value: string; expected: string }) =>
      `Option ${p.option} got '${p.value}', expected ${p.expected}.`,
    fix: () => "Run 'netdbg lab --help' for the options.",
  },
  E608: {
    title: "Lab VM failed to start",
    exit: "environment",
    message: (p: { what: string; detail: string }) => `Starting the lab's ${p.what} failed: ${p.detail}.`,
    fix: (p: { log: string }) => `Read ${p.log}, then run 'netdbg lab down' to clean up and 'netdbg lab up' again.`,
  },
  E609: {
    title: "Lab needs root",
    exit: "environment",
    message: () => "The lab creates a network namespace and a veth pair, which needs root.",
    fix: () => "Run 'sudo netdbg lab …' (or as root).",
  },
  E610: {
    title: "Lab kernel config incomplete",
    exit: "internal",
    message: (p: { missing: string }) => `The lab kernel's final .config lacks required options: ${p.missing}.`,
    fix: () =>
      "templates/lab/kgdb.config no longer produces them on this kernel source (linux-source-6.1 or 6.12); adjust the fragment and run 'netdbg lab build'.",
  },
  E611: {
    title: "Lab namespace in use by another lab",
    exit: "environment",
    message: (p: { netns: string; state: string }) =>
      `Network namespace ${p.netns} is in use by a lab that ${p.state} does not describe (started from another state directory).`,
    fix: () =>
      "Stop that lab from where it was started, or run this one as another instance: 'netdbg lab up --instance N' (or NETDBG_LAB_INSTANCE=N), N 1–63.",
  },
});
