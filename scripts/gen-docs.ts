/** Regenerate docs/errors/ from the error catalog: `npm run docs`. */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderErrorIndex, renderErrorPages } from "../src/core/errors/docs.js";

const dir = fileURLToPath(new URL("../docs/errors/", import.meta.url));
mkdirSync(dir, { recursive: true });
for (const f of readdirSync(dir)) if (f.startsWith("NETDBG-E")) rmSync(`${dir}${f}`);
const pages = renderErrorPages();
for (const p of pages) writeFileSync(`${dir}${p.file}`, p.markdown);
writeFileSync(`${dir}README.md`, renderErrorIndex(pages));
process.stdout.write(`wrote ${pages.length} error pages to docs/errors/\n`);
