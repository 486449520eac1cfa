/**
 * What the lab needs from the machine, as ports: a CommandRunner for programs and a small file system
 * interface for its own cache and state files. The CLI passes the real adapters; unit tests pass fakes.
 */
import type { Clock, CommandRunner, Logger } from "../core/interfaces.js";

export interface LabFs {
  readText(path: string): Promise<string>;
  /** Writes (creating parent directories); mode defaults to 0o644. */
  writeText(path: string, content: string, mode?: number): Promise<void>;
  exists(path: string): Promise<boolean>;
  mkdirp(path: string): Promise<void>;
  /** Recursive, force: no error when missing. */
  remove(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Names in a directory ([] when it does not exist). */
  list(path: string): Promise<string[]>;
}

export interface LabDeps {
  runner: CommandRunner;
  fs: LabFs;
  clock: Clock;
  log: Logger;
}

/** Where the lab keeps things and what it runs with (decided by the CLI). */
export interface LabPaths {
  /** Content-addressed artifacts: <cache>/kernel-<hash>, rootfs-<hash>, image-<hash>. */
  cache: string;
  /** Runtime state of the running lab: state.json, pid files, console log, monitor socket. */
  state: string;
  /** templates/lab of this netdbg installation. */
  templates: string;
  /** The node binary that runs the serial relay (process.execPath). */
  node: string;
}
