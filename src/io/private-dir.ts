/**
 * netdbg's state must be its user's alone: a key directory others can read leaks keys, and a state or journal
 * directory others can write lets them plant a journal whose "undo" netdbg would run on a target. Refused
 * (NETDBG-E011, with the fix) when a directory is writable by group or others, readable by them where it holds
 * secrets, or owned by another user.
 */
import { stat } from "node:fs/promises";
import { netdbgError } from "../core/error.js";

const octal = (mode: number) => (mode & 0o777).toString(8).padStart(4, "0");

/** Check `dir` if it exists. `secret`: no access at all for group and others (keys). */
export async function checkPrivateDir(dir: string, opts: { secret?: boolean } = {}): Promise<void> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  if (!st.isDirectory()) return;
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw netdbgError("E011", {
      file: dir,
      kind: "directory",
      mode: octal(st.mode),
      problem: `belongs to user id ${st.uid}, not to you (user id ${uid}), so its owner could change what netdbg reads`,
      owned: true,
    });
  }
  const bad = opts.secret ? 0o077 : 0o022;
  // a sticky directory writable by all (/tmp) is fine for state: others cannot rename or remove our files in it
  const sticky = !opts.secret && (st.mode & 0o1000) !== 0;
  if ((st.mode & bad) !== 0 && !sticky) {
    throw netdbgError("E011", {
      file: dir,
      kind: "directory",
      mode: octal(st.mode),
      problem: opts.secret
        ? `has mode ${octal(st.mode)}, so other users may read the keys in it`
        : `has mode ${octal(st.mode)}, so other users may change the files in it`,
    });
  }
}
