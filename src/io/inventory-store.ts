import { readFile } from "node:fs/promises";
import { isMap, isSeq, LineCounter, parseDocument, type Node } from "yaml";
import type { z } from "zod";
import { netdbgError } from "../core/error.js";
import { emptyInventory, type Inventory, inventorySchema, type Target } from "../core/inventory.js";
import { writeFileAtomic } from "./atomic.js";
import { INVENTORY_LOCK_WAIT_MS, withNamedLock } from "./lock.js";

/** Find the YAML node at a zod issue path, to report its line. */
function nodeAt(doc: ReturnType<typeof parseDocument>, path: readonly PropertyKey[]): Node | undefined {
  let node: unknown = doc.contents;
  let last: Node | undefined = doc.contents ?? undefined;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      node = pair?.value;
      if (pair?.key) last = pair.key as Node;
    } else if (isSeq(node) && typeof key === "number") {
      node = node.items[key];
    } else break;
    if (node && typeof node === "object" && "range" in node) last = node as Node;
  }
  return last;
}

/** Parse inventory text. Never writes. Errors carry the line and the field. */
export function parseInventory(text: string, file: string): Inventory {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const line = err?.linePos?.[0]?.line ?? 1;
    throw netdbgError("E004", {
      file,
      where: `line ${line}`,
      problem: (err?.message.split("\n")[0] ?? "YAML syntax error").replace(/:$/, ""),
    });
  }
  let data: unknown;
  try {
    // yaml refuses documents whose aliases would expand without bound ("billion laughs") here
    data = doc.toJS({ maxAliasCount: 100 }) ?? { version: 1, targets: [] };
  } catch (e) {
    throw netdbgError("E004", { file, where: "line 1", problem: (e as Error).message.split("\n")[0] ?? "it does not expand" });
  }
  const result = inventorySchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0] as z.core.$ZodIssue;
    const node = nodeAt(doc, issue.path);
    const line = node?.range ? lc.linePos(node.range[0]).line : 1;
    const field = issue.path
      .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
      .join("")
      .replace(/^\./, "");
    throw netdbgError("E004", { file, where: `line ${line}, field '${field || "(top)"}'`, problem: issue.message });
  }
  return result.data;
}

export class InventoryStore {
  constructor(readonly file: string) {}

  async load(): Promise<Inventory> {
    let text: string;
    try {
      text = await readFile(this.file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return emptyInventory();
      throw netdbgError("E013", { file: this.file, reason: (e as Error).message });
    }
    return parseInventory(text, this.file);
  }

  async save(inv: Inventory): Promise<void> {
    const checked = inventorySchema.parse(inv);
    const { stringify } = await import("yaml");
    const header = "# netdbg inventory: edit with 'netdbg targets …' or by hand (validated on every load).\n";
    await writeFileAtomic(this.file, header + stringify(checked), 0o600);
  }

  /**
   * Load, change, validate, save — under the inventory's cross-process lock (`<file>.lock`), so concurrent
   * netdbg processes never lose each other's targets or ports. The file is untouched when it does not parse or
   * `fn` throws.
   */
  async update<T>(fn: (inv: Inventory) => T | Promise<T>): Promise<T> {
    return withNamedLock(
      `${this.file}.lock`,
      { waitMs: INVENTORY_LOCK_WAIT_MS, command: "update the inventory", what: `the inventory ${this.file}` },
      async () => {
        const inv = await this.load();
        const result = await fn(inv);
        await this.save(inv);
        return result;
      },
    );
  }

  async get(name: string): Promise<Target> {
    const inv = await this.load();
    const t = inv.targets.find((x) => x.name === name);
    if (!t) throw netdbgError("E005", { name });
    return t;
  }
}
