/**
 * Cross-process locks: a lock file created with O_EXCL ('wx') holding its owner (pid, host, command, since).
 * Several netdbg processes at once — a shell loop, an Ansible play with many forks, two users — take turns on
 * the inventory (and with it ports and keys) and never work on the same target at the same time.
 *
 * A lock whose owner is a process of this host that no longer runs is stale and is broken; breaking happens
 * under a second, short-lived lock (`<lock>.break`), and the lock is re-read there, so two processes that both
 * saw the dead owner cannot remove each other's fresh lock. A lock held from another host (a shared state
 * directory) is never broken automatically: the error names the holder and the file to remove.
 */
import { randomBytes } from "node:crypto";
import { link, mkdir, open, readFile, stat, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { netdbgError } from "../core/error.js";

export interface LockOwner {
  pid: number;
  host: string;
  /** What the holder does, e.g. "netdbg setup win01". */
  command: string;
  /** ISO time the lock was taken. */
  since: string;
}

export interface LockOptions {
  /** How long to wait for a held lock before giving up (ms). 0: give up at once. */
  waitMs: number;
  /** What this process does, recorded in the lock for whoever has to wait. */
  command: string;
  /** Poll interval while waiting (ms). */
  pollMs?: number;
}

/** Thrown when the lock stays held by another live process for longer than `waitMs`. */
export class LockHeldError extends Error {
  constructor(
    readonly file: string,
    readonly owner: LockOwner | undefined,
  ) {
    super(`lock ${file} is held${owner ? ` by pid ${owner.pid} on ${owner.host} (${owner.command}) since ${owner.since}` : ""}`);
    this.name = "LockHeldError";
  }
}

const HOST = hostname();
/** A lock file still empty or half-written after this long belongs to a process that died while creating it. */
const UNREADABLE_GRACE_MS = 5_000;
const BREAK_STALE_MS = 10_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, belongs to another user
  }
}

async function readOwner(file: string): Promise<LockOwner | undefined | "gone"> {
  try {
    const o = JSON.parse(await readFile(file, "utf8")) as Partial<LockOwner>;
    if (typeof o.pid === "number" && typeof o.host === "string") {
      return { pid: o.pid, host: o.host, command: String(o.command ?? "?"), since: String(o.since ?? "?") };
    }
    return undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    return undefined; // being written, or damaged
  }
}

/**
 * Create the lock file with its owner already in it: the owner is written to a file of this process's own, which is
 * then hard-linked to the lock's name (link(2) fails with EEXIST when the name exists, atomically). A file created
 * empty and written after would show a racing taker an owner-less lock ("pid unknown"). Where the file system has
 * no hard links, the file is created exclusively and written.
 */
async function tryCreate(file: string, owner: LockOwner): Promise<boolean> {
  const text = `${JSON.stringify(owner)}\n`;
  const own = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
  try {
    await writeFile(own, text, { mode: 0o600, flag: "wx" });
    try {
      await link(own, file);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EEXIST") return false;
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw e;
    } finally {
      await unlink(own).catch(() => undefined);
    }
    const fh = await open(file, "wx", 0o600);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
}

/** Is the lock at `file` stale (its owner is a dead process of this host, or it stayed unreadable too long)? */
async function isStale(file: string, owner: LockOwner | undefined): Promise<boolean> {
  if (owner) return owner.host === HOST && !alive(owner.pid);
  try {
    return Date.now() - (await stat(file)).mtimeMs > UNREADABLE_GRACE_MS;
  } catch {
    return false;
  }
}

/** Remove a stale lock under the break lock, after checking again that it is the same stale lock. */
async function breakStale(file: string, seen: LockOwner | undefined): Promise<void> {
  const breaker = `${file}.break`;
  const me: LockOwner = { pid: process.pid, host: HOST, command: "break a stale lock", since: new Date().toISOString() };
  if (!(await tryCreate(breaker, me))) {
    // another process is breaking it; a breaker that died mid-way is cleared after a while
    try {
      if (Date.now() - (await stat(breaker)).mtimeMs > BREAK_STALE_MS) await unlink(breaker);
    } catch {
      // gone already
    }
    return;
  }
  try {
    const now = await readOwner(file);
    if (now === "gone") return;
    const same = now === undefined ? seen === undefined : seen !== undefined && now.pid === seen.pid && now.since === seen.since;
    if (same && (await isStale(file, now))) await unlink(file).catch(() => undefined);
  } finally {
    await unlink(breaker).catch(() => undefined);
  }
}

/** The owner of the lock at `file`, if it is held (by a live or unknown process). */
export async function lockOwner(file: string): Promise<LockOwner | undefined> {
  const o = await readOwner(file);
  return o === "gone" ? undefined : o;
}

/**
 * Take the lock at `file`, waiting up to `waitMs` for another holder, and return its release. Stale locks are
 * broken. Throws LockHeldError when the lock is still held at the end of the wait.
 */
export async function acquireLock(file: string, opts: LockOptions): Promise<() => Promise<void>> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const owner: LockOwner = { pid: process.pid, host: HOST, command: opts.command, since: new Date().toISOString() };
  const deadline = Date.now() + opts.waitMs;
  let poll = Math.min(opts.pollMs ?? 25, 25);
  for (;;) {
    if (await tryCreate(file, owner)) {
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        const now = await readOwner(file);
        // only remove our own lock (never one a breaker handed to someone else)
        if (now !== "gone" && now?.pid === owner.pid && now.since === owner.since && now.host === owner.host) {
          await unlink(file).catch(() => undefined);
        }
      };
    }
    const held = await readOwner(file);
    if (held === "gone") continue;
    if (await isStale(file, held)) {
      await breakStale(file, held);
      continue;
    }
    if (Date.now() >= deadline) throw new LockHeldError(file, held);
    await new Promise((r) => setTimeout(r, Math.min(poll, Math.max(1, deadline - Date.now()))));
    poll = Math.min(poll * 2, opts.pollMs ?? 200);
  }
}

/** Run `fn` holding the lock at `file`; the lock is released however `fn` ends. */
export async function withLock<T>(file: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const release = await acquireLock(file, opts);
  try {
    return await fn();
  } finally {
    await release();
  }
}

/**
 * `withLock`, with a held lock reported as NETDBG-E016 naming the holder. `what` says what is locked ("target
 * 'win01'", "the inventory"); `waitFlag` says whether the command offers --wait.
 */
export async function withNamedLock<T>(
  file: string,
  opts: LockOptions & { what: string; waitFlag?: boolean },
  fn: () => Promise<T>,
): Promise<T> {
  let release: () => Promise<void>;
  try {
    release = await acquireLock(file, opts);
  } catch (e) {
    if (!(e instanceof LockHeldError)) throw e;
    throw netdbgError(
      "E016",
      {
        what: opts.what,
        pid: e.owner?.pid ?? "unknown",
        host: e.owner?.host ?? "unknown",
        command: e.owner?.command ?? "unknown",
        since: e.owner?.since ?? "unknown",
        lock: file,
        ...(opts.waitFlag ? { waitFlag: true } : {}),
      },
      { cause: e },
    );
  }
  try {
    return await fn();
  } finally {
    await release();
  }
}

/** How long an inventory update waits for another process's update (they take milliseconds). */
export const INVENTORY_LOCK_WAIT_MS = 60_000;
