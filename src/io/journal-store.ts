import { readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { netdbgError } from "../core/error.js";
import { checkJournal, emptyJournal, type Journal, type JournalStore } from "../core/journal.js";
import { writeFileAtomic } from "./atomic.js";
import { checkPrivateDir } from "./private-dir.js";

/** One JSON file per target under the state dir, rewritten atomically at every transition. */
export class FileJournalStore implements JournalStore {
  constructor(readonly dir: string) {}

  locate(target: string): string {
    return join(this.dir, `${target}.json`);
  }

  async load(target: string): Promise<Journal> {
    const file = this.locate(target);
    await checkPrivateDir(dirname(this.dir));
    await checkPrivateDir(this.dir);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return emptyJournal(target);
      throw netdbgError("E015", { file, problem: (e as Error).message });
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw netdbgError("E015", { file, problem: `it is not JSON (${(e as Error).message})` });
    }
    const checked = checkJournal(data, target);
    if ("problem" in checked) throw netdbgError("E015", { file, problem: checked.problem });
    return checked.journal;
  }

  async save(journal: Journal): Promise<void> {
    await checkPrivateDir(dirname(this.dir));
    await checkPrivateDir(this.dir);
    await writeFileAtomic(this.locate(journal.target), `${JSON.stringify(journal, null, 2)}\n`, 0o600);
  }

  async remove(target: string): Promise<void> {
    await rm(this.locate(target), { force: true });
  }
}

/** In-memory store for tests and check mode. */
export class MemoryJournalStore implements JournalStore {
  readonly saved = new Map<string, string>();
  locate(target: string): string {
    return `memory:${target}`;
  }
  async load(target: string): Promise<Journal> {
    const s = this.saved.get(target);
    return s ? (JSON.parse(s) as Journal) : emptyJournal(target);
  }
  async save(journal: Journal): Promise<void> {
    this.saved.set(journal.target, JSON.stringify(journal));
  }
  async remove(target: string): Promise<void> {
    this.saved.delete(target);
  }
}
