import { defineErrors } from "./types.js";

/** How a missing value is given on the command line: a flag, or (the target) the command's argument. */
function howToPass(m: string): string {
  if (m === "target") return "the target's name as the command's argument";
  if (m.startsWith("target ")) return `the ${m}`;
  return `--${m}`;
}

export const coreErrors = defineErrors({
  E001: {
    title: "Capability not available yet",
    exit: "environment",
    message: (p: { what: string }) => `${p.what} is not available in this version of netdbg yet.`,
    fix: (p: { what: string; instead?: string }) =>
      p.instead ?? "Follow the project's issues for when it lands; nothing was changed.",
  },
  E002: {
    title: "Missing option in non-interactive mode",
    exit: "usage",
    message: (p: { missing: string[] }) => `Standard input is not a terminal, so netdbg cannot ask for ${p.missing.join(", ")}.`,
    fix: (p: { missing: string[] }) =>
      `Pass ${p.missing.map(howToPass).join(" and ")} on the command line${p.missing.every((m) => m.startsWith("target")) ? "" : " or in --config <file>"}.`,
  },
  E003: {
    title: "Invalid option value",
    exit: "usage",
    message: (p: { option: string; value: string; reason: string }) =>
      `The value '${p.value}' for ${p.option} is not valid: ${p.reason}.`,
    fix: (p: { fix: string }) => p.fix,
  },
  E004: {
    title: "Inventory file does not parse",
    exit: "usage",
    message: (p: { file: string; where: string; problem: string }) =>
      `The inventory ${p.file} is not valid at ${p.where}: ${p.problem}.`,
    fix: (p: { file: string }) =>
      `Edit ${p.file} to fix that entry (netdbg left the file untouched), or move it aside and add targets again with 'netdbg targets add'.`,
  },
  E005: {
    title: "Unknown target",
    exit: "usage",
    message: (p: { name: string }) => `No target named '${p.name}' is in the inventory.`,
    fix: () =>
      "List targets with 'netdbg targets list' or add one with 'netdbg targets add <name> --os <windows|linux> --address <addr>'.",
  },
  E006: {
    title: "Target already exists",
    exit: "usage",
    message: (p: { name: string }) => `A target named '${p.name}' is already in the inventory.`,
    fix: (p: { name: string }) => `Choose another name, or change it with 'netdbg targets edit ${p.name}'.`,
  },
  E007: {
    title: "Invalid target name",
    exit: "usage",
    message: (p: { name: string }) => `'${p.name}' cannot be a target name.`,
    fix: () => "Use 1–63 characters: letters, digits, '.', '_' or '-', starting with a letter or digit.",
  },
  E008: {
    title: "Malformed KDNET key",
    exit: "usage",
    message: (p: { problem: string }) => `The KDNET key is malformed: ${p.problem}.`,
    fix: () =>
      "A key is four dot-separated parts of base-36 digits (0-9, a-z), each at most 13 characters and below 2^64, e.g. 1a2b3c.4d5e6f.7g8h9i.0j1k2l. Generate one with 'netdbg keys generate'.",
  },
  E009: {
    title: "No key stored for target",
    exit: "usage",
    message: (p: { name: string }) => `No KDNET key is stored for target '${p.name}'.`,
    fix: (p: { name: string }) => `Create one with 'netdbg keys generate ${p.name}'.`,
  },
  E010: {
    title: "Secret store failure",
    exit: "environment",
    message: (p: { store: string; op: string; reason: string }) => `The ${p.store} secret store could not ${p.op}: ${p.reason}.`,
    fix: (p: { dir?: string }) =>
      p.dir
        ? `Check that ${p.dir} exists, belongs to you and has mode 0700, or point NETDBG_HOME / --state-dir elsewhere.`
        : "Check the permissions of netdbg's state directory, or point NETDBG_HOME / --state-dir elsewhere.",
  },
  E011: {
    title: "Insecure permissions on netdbg's state",
    exit: "environment",
    message: (p: { file: string; mode: string; kind?: "file" | "directory"; problem?: string }) =>
      `The ${p.kind ?? "file"} ${p.file} ${p.problem ?? `has mode ${p.mode}, so other users may read or change it`}.`,
    fix: (p: { file: string; kind?: "file" | "directory"; owned?: boolean }) =>
      p.owned
        ? `It must belong to you: 'chown -R "$(id -un)" ${p.file}' (as root), or point NETDBG_HOME / --state-dir at a directory of your own.`
        : p.kind === "directory"
          ? `Run 'chmod 700 ${p.file}' (a directory needs its x bit to be usable), then try again.`
          : `Run 'chmod 600 ${p.file}', then try again.`,
  },
  E012: {
    title: "Configuration file does not parse",
    exit: "usage",
    message: (p: { file: string; problem: string }) => `The config file ${p.file} is not valid: ${p.problem}.`,
    fix: (p: { file: string }) => `Fix ${p.file}; see docs/quickstart.md for its fields.`,
  },
  E013: {
    title: "File not readable",
    exit: "usage",
    message: (p: { file: string; reason: string }) => `Cannot read ${p.file}: ${p.reason}.`,
    fix: () => "Check the path and its permissions.",
  },
  E014: {
    title: "Interactive prompt cancelled",
    exit: "usage",
    message: () => "The prompt was cancelled.",
    fix: () => "Run the command again, or pass every option as a flag to skip the questions.",
  },
  E015: {
    title: "Journal does not parse",
    exit: "environment",
    message: (p: { file: string; problem: string }) => `The change journal ${p.file} is damaged: ${p.problem}.`,
    fix: (p: { file: string }) =>
      `Keep ${p.file} for reference; undo the recorded changes by hand (see docs/) or restore the file from a backup.`,
  },
  E016: {
    title: "Another netdbg is changing the same thing",
    exit: "environment",
    message: (p: { what: string; pid: number | string; host: string; command: string; since: string }) =>
      `Another netdbg process (pid ${p.pid} on ${p.host}: '${p.command}', since ${p.since}) is changing ${p.what}, so this one changed nothing.`,
    fix: (p: { lock: string; waitFlag?: boolean }) =>
      `${p.waitFlag ? "Wait for it to finish and run again, or pass --wait <seconds> to wait for it. " : "Wait for it to finish and run again. "}If no such process runs any more (another host, or a crash), remove ${p.lock}.`,
  },
  E017: {
    title: "Command failed",
    exit: "environment",
    message: (p: { command: string; exitCode: number | string; stderrTail: string }) =>
      `'${p.command}' failed (exit ${p.exitCode})${p.stderrTail ? `: ${p.stderrTail}` : "."}`,
    fix: (p: { fix?: string }) => p.fix ?? "Read the error above, fix its cause, and run netdbg again.",
  },
  E019: {
    title: "Interrupted",
    exit: "interrupted",
    message: (p: { signal: string; what: string; outcome: string }) => `${p.signal} stopped ${p.what}: ${p.outcome}.`,
    fix: (p: { next: string }) => p.next,
  },
  E018: {
    title: "Required tool missing",
    exit: "environment",
    message: (p: { tool: string }) => `The command '${p.tool}' is not installed on this machine.`,
    fix: (p: { pkg?: string }) =>
      p.pkg ? `Install it (on Debian/Ubuntu: 'apt-get install ${p.pkg}') and try again.` : "Install it and try again.",
  },
});
