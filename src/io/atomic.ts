import { randomBytes } from "node:crypto";
import { mkdir, open, rename, unlink } from "node:fs/promises";
import { dirname, join, basename } from "node:path";

/** Write a file atomically: temp file in the same directory, fsync, rename, then fsync the directory. */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644, dirMode = 0o700): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true, mode: dirMode });
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const fh = await open(tmp, "wx", mode);
  try {
    await fh.writeFile(data);
    await fh.chmod(mode); // umask may have narrowed or (never) widened it
    await fh.sync();
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
  const dh = await open(dir, "r");
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
