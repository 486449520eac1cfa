import { defineErrors } from "./types.js";

/** Setup / teardown / fleet errors. Code range: CODE_RANGES in index.ts. */
export const journeyErrors = defineErrors({
  E740: {
    title: "Host firewall needs root to open",
    exit: "environment",
    message: (p: { frontEnds: string; port: number; address: string }) =>
      `The host firewall (${p.frontEnds}) drops inbound UDP ${p.port} from ${p.address}, and opening it needs root, which this process is not. Nothing was changed.`,
    fix: (p: { target: string; commands: string[] }) =>
      `Run 'sudo netdbg setup ${p.target}' so netdbg opens (and teardown later closes) the rule, or run these as root yourself and pass --no-host-firewall: ${p.commands.join(" ; ")}`,
  },
  E741: {
    title: "Journal was written for another target",
    exit: "usage",
    message: (p: { target: string; journal: string; recorded: string; now: string }) =>
      `The change journal of '${p.target}' (${p.journal}) records changes made on ${p.recorded}, but the inventory now says ${p.now}. Undoing them there could change the wrong machine, so teardown refuses.`,
    fix: (p: { target: string; address: string; os: string }) =>
      `Put the recorded address back ('netdbg targets edit ${p.target} --address ${p.address}', os ${p.os}) and run teardown again, or undo the journal's commands by hand (see docs/) and delete the journal file.`,
  },
  E742: {
    title: "Host firewall rule could not be removed",
    exit: "environment",
    message: (p: { title: string; detail: string }) => `Removing the host firewall rule '${p.title}' failed: ${p.detail}.`,
    fix: (p: { undo: string }) =>
      `Remove it by hand (${p.undo}) or fix the cause (root? the firewall service running?), then run 'netdbg teardown' again: it resumes where it stopped.`,
  },
  E743: {
    title: "Port given twice in a fleet",
    exit: "usage",
    message: (p: { count: number }) =>
      `--port was given for a fleet of ${p.count} targets, but every target needs its own host port.`,
    fix: () => "Drop --port: each target keeps its inventory port, or gets a free one of its own.",
  },
  // `netdbg demo` (E770–E789)
  E770: {
    title: "Demo targets did not start",
    exit: "environment",
    message: (p: { what: string; reason: string }) =>
      `The demo could not start its built-in ${p.what} on 127.0.0.1: ${p.reason}.`,
    fix: () =>
      "The demo needs loopback (127.0.0.1) with free TCP and UDP ports and a writable temporary directory; check 'ip addr show lo' and $TMPDIR, then run 'netdbg demo' again.",
  },
  E771: {
    title: "Demo kgdboe source missing",
    exit: "environment",
    message: (p: { path: string }) =>
      `The demo uploads the kgdboe-compatible source from the netdbg repository to its Linux target, but ${p.path} does not exist.`,
    fix: () =>
      "Run the demo from a netdbg checkout (git clone, then 'npm install && npx netdbg demo'), or pass --kgdboe-source <dir|tarball> with a kgdboe source tree.",
  },
  E772: {
    title: "Demo teardown left changes behind",
    exit: "check",
    message: (p: { target: string; what: string }) =>
      `After 'teardown', the demo target '${p.target}' still differs from how it started: ${p.what}.`,
    fix: () =>
      "This is a bug in netdbg's setup/teardown journal: run 'netdbg demo --keep --verbose', and report the output and the kept state directory.",
  },
});
