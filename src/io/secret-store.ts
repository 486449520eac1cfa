import { lstat, mkdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { netdbgError } from "../core/error.js";
import { TARGET_NAME } from "../core/inventory.js";
import type { SecretStore } from "../core/interfaces.js";
import { writeFileAtomic } from "./atomic.js";
import { checkPrivateDir } from "./private-dir.js";

/** Default store: one 0600 file per secret in a 0700 directory, written atomically. */
export class FileSecretStore implements SecretStore {
  readonly kind: string;
  constructor(readonly dir: string) {
    this.kind = `file (${dir})`;
  }

  private pathOf(name: string): string {
    if (!TARGET_NAME.test(name)) throw netdbgError("E007", { name });
    return join(this.dir, `${name}.key`);
  }

  async get(name: string): Promise<string | undefined> {
    const file = this.pathOf(name);
    await checkPrivateDir(this.dir, { secret: true });
    try {
      const st = await lstat(file);
      if (!st.isFile()) {
        throw netdbgError("E010", { store: "file", op: "read a key", reason: `${file} is not a regular file`, dir: this.dir });
      }
      if ((st.mode & 0o077) !== 0) {
        throw netdbgError("E011", { file, kind: "file", mode: (st.mode & 0o777).toString(8).padStart(4, "0") });
      }
      return (await readFile(file, "utf8")).trim();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      if ((e as { code?: string }).code?.startsWith("NETDBG-")) throw e;
      throw netdbgError("E010", { store: "file", op: "read a key", reason: (e as Error).message, dir: this.dir });
    }
  }

  async set(name: string, secret: string): Promise<void> {
    const file = this.pathOf(name);
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await checkPrivateDir(this.dir, { secret: true });
      await writeFileAtomic(file, `${secret}\n`, 0o600, 0o700);
    } catch (e) {
      if ((e as { code?: string }).code?.startsWith("NETDBG-")) throw e;
      throw netdbgError("E010", { store: "file", op: "write a key", reason: (e as Error).message, dir: this.dir });
    }
  }

  async delete(name: string): Promise<boolean> {
    try {
      await unlink(this.pathOf(name));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw netdbgError("E010", { store: "file", op: "delete a key", reason: (e as Error).message, dir: this.dir });
    }
  }
}
