import { registerTerminalPrompts } from "./prompts.js";
import { hostname } from "node:os";
import pc from "picocolors";
import { netdbgError } from "../core/error.js";
import type { InventoryPort, Logger } from "../core/interfaces.js";
import { parsePortRange } from "../core/ansible-inventory.js";
import { AnsibleInventoryStore, withPortRange } from "../io/ansible-inventory.js";
import { redactText } from "../core/redact.js";
import { InventoryStore } from "../io/inventory-store.js";
import { type NetdbgPaths, resolvePaths } from "../io/paths.js";
import { FileSecretStore } from "../io/secret-store.js";
import { showFullText } from "./output.js";

/** Global options every command sees (set on the root program). */
export interface GlobalOptions {
  json?: boolean;
  verbose?: boolean;
  color?: boolean;
  config?: string;
  stateDir?: string;
  showSecrets?: boolean;
  /** Targets from an Ansible inventory (a file, or - for the JSON of 'ansible-inventory --list' on stdin). */
  ansibleInventory?: string;
  /** With --ansible-inventory: the debug host whose targets these are (default: this host's name). */
  debugHost?: string;
  /** New ports come from this range (A-B). */
  portRange?: string;
}

/** Everything a command needs, built once from the global options: the real adapters live here. */
export interface Context {
  opts: GlobalOptions;
  paths: NetdbgPaths;
  inventory: InventoryPort;
  secrets: FileSecretStore;
  log: Logger;
  /** Human output (stdout). Suppressed in --json mode: commands print their one JSON object via `json`. */
  out(text: string): void;
  json(value: unknown): void;
  /** Secrets seen in this run, redacted from every log line. */
  secretsSeen: string[];
  color: boolean;
  isTTY: boolean;
  /** The listr2 renderer long-running commands use: silent under --json or inside a fleet, simple when not a TTY. */
  renderer: "default" | "simple" | "silent";
  /**
   * Where a silent renderer's progress goes as the lines the simple renderer prints (`❯ title`, `› line`,
   * `✔ title`): a captured context keeps them in its log, so a run held back (the demo's side-by-side teardown)
   * can show them afterwards. None: dropped.
   */
  progress?: (line: string) => void;
}

/**
 * A child context whose output is captured instead of printed (fleets run several targets at once and print
 * one summary). Logs go to `sink` too; secrets stay redacted.
 */
export function captureContext(parent: Context, sink: { out: string[]; json: unknown[]; log: string[] }): Context {
  const scrub = (s: string) => (parent.opts.showSecrets ? s : redactText(s, parent.secretsSeen));
  const line = (level: string) => (m: string) => {
    sink.log.push(`${level}${scrub(m)}`);
  };
  return {
    ...parent,
    renderer: "silent",
    log: { debug: line("debug: "), info: line(""), warn: line("warning: "), error: line("error: ") },
    progress: line(""),
    out: (text) => {
      sink.out.push(scrub(text));
    },
    json: (value) => {
      sink.json.push(value);
    },
  };
}

/** netdbg's own inventory, or the targets an Ansible inventory assigns to this debug host. */
function inventoryFor(opts: GlobalOptions, paths: NetdbgPaths): InventoryPort {
  if (opts.ansibleInventory !== undefined) {
    return new AnsibleInventoryStore({
      source: opts.ansibleInventory,
      debugHost: opts.debugHost ?? hostname().split(".")[0] ?? hostname(),
      stateDir: paths.state,
      ...(opts.portRange !== undefined ? { portRange: opts.portRange } : {}),
    });
  }
  if (opts.debugHost !== undefined) {
    throw netdbgError("E003", {
      option: "--debug-host",
      value: opts.debugHost,
      reason: "it selects targets of an Ansible inventory",
      fix: "Pass it with --ansible-inventory <file|->, or leave it out.",
    });
  }
  const own = new InventoryStore(paths.inventory);
  return opts.portRange === undefined ? own : withPortRange(own, parsePortRange(opts.portRange, "--port-range"));
}

export function createContext(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Context {
  const paths = resolvePaths(opts.stateDir, env);
  showFullText(Boolean(opts.verbose));
  registerTerminalPrompts();
  const color = opts.color !== false && !env.NO_COLOR && pc.isColorSupported && !opts.json;
  const secretsSeen: string[] = [];
  const scrub = (s: string) => (opts.showSecrets ? s : redactText(s, secretsSeen));
  const log: Logger = {
    debug: (m) => {
      if (opts.verbose) process.stderr.write(`${scrub(m)}\n`);
    },
    info: (m) => {
      if (!opts.json || opts.verbose) process.stderr.write(`${scrub(m)}\n`);
    },
    warn: (m) => process.stderr.write(`${color ? pc.yellow("warning:") : "warning:"} ${scrub(m)}\n`),
    error: (m) => process.stderr.write(`${color ? pc.red("error:") : "error:"} ${scrub(m)}\n`),
  };
  return {
    opts,
    paths,
    inventory: inventoryFor(opts, paths),
    secrets: new FileSecretStore(paths.keys),
    log,
    out: (text) => {
      if (!opts.json) process.stdout.write(`${scrub(text)}\n`);
    },
    json: (value) => {
      process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    secretsSeen,
    color,
    isTTY: Boolean(process.stdin.isTTY),
    renderer: opts.json ? "silent" : process.stderr.isTTY && !env.CI ? "default" : "simple",
  };
}
