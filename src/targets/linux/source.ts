/** Where the kgdboe source comes from, and the id that makes "already uploaded/built" decidable. */
import { createHash } from "node:crypto";

export type { KgdboeSource } from "../../core/kgdboe-source.js";
import type { KgdboeSource } from "../../core/kgdboe-source.js";

export function sourceId(s: KgdboeSource): string {
  if (s.kind === "git") return `git:${s.url}`;
  const h = createHash("sha256");
  if (s.kind === "tarball") h.update(s.content);
  else
    for (const f of [...s.files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
      h.update(f.path);
      h.update("\0");
      h.update(typeof f.content === "string" ? Buffer.from(f.content) : f.content);
      h.update("\0");
    }
  return `${s.kind === "tarball" ? "tar" : "dir"}:sha256:${h.digest("hex").slice(0, 32)}`;
}

export function isSafeRelPath(p: string): boolean {
  return p.length > 0 && !p.startsWith("/") && !p.split("/").some((seg) => seg === ".." || seg === "") && !p.includes("\0");
}
