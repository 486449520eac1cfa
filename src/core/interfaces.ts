/**
 * The interfaces through which every side effect flows (the "ports" of ports-and-adapters; not UDP ports). Real
 * adapters live in src/io; tests inject their own (src/peers, test/fakes). Nothing in core performs I/O itself.
 */

import type { Inventory, Target } from "./inventory.js";

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunOptions {
  /** Text written to the command's stdin (e.g. a sudo password). Never logged. */
  input?: string;
  timeoutMs?: number;
  /** Environment additions. */
  env?: Record<string, string>;
  cwd?: string;
  /**
   * What logs and error messages show instead of the command line (e.g. a script's name and its redacted
   * parameters). Without it they show the command with any encoded payload left out (core/redact.ts).
   */
  display?: string;
}

/** Runs a local program with an argument vector (never through a shell). */
export interface CommandRunner {
  run(file: string, args: readonly string[], options?: RunOptions): Promise<CommandResult>;
}

/** A session on a remote machine (SSH). `exec` takes one command line for the remote shell: build it with quote.ts. */
export interface RemoteSession {
  readonly description: string;
  exec(command: string, options?: RunOptions): Promise<CommandResult>;
  upload(
    localPathOrContent: { path: string } | { content: string | Uint8Array },
    remotePath: string,
    mode?: number,
  ): Promise<void>;
  download(remotePath: string): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Runs a PowerShell script and returns its stdout/stderr/exit code. Values enter only as declared parameters. */
export interface PowerShellRunner {
  /** `params` are bound to the script's `param()` block; never spliced into its text. */
  invoke(script: string, params?: Record<string, string | number | boolean | readonly string[]>): Promise<CommandResult>;
  dispose(): Promise<void>;
}

export interface SecretStore {
  /** A short description for doctor: "file (~/.config/netdbg/keys)" or "OS keyring". */
  readonly kind: string;
  get(name: string): Promise<string | undefined>;
  set(name: string, secret: string): Promise<void>;
  delete(name: string): Promise<boolean>;
}

export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

/**
 * Where targets come from: netdbg's own inventory file (io/inventory-store) or an Ansible inventory
 * (io/ansible-inventory). `update` is load → change → validate → save.
 */
export interface InventoryPort {
  readonly file: string;
  load(): Promise<Inventory>;
  get(name: string): Promise<Target>;
  update<T>(fn: (inv: Inventory) => T | Promise<T>): Promise<T>;
}

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export const nullLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
