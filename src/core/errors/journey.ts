import { defineErrors } from "./types.js";

/** Errors of this area: see the code ranges in types.ts. */
export const journeyErrors = defineErrors({
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
