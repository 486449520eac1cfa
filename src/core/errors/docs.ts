/** Render the error catalog as Markdown pages (docs/errors/). Pure: scripts/gen-docs.ts writes the files. */
import { CODE_RANGES, sections } from "./index.js";
import type { ErrorSpec } from "./types.js";

const EXIT_TEXT = {
  check: "1 (a check failed)",
  usage: "2 (usage or input error)",
  environment: "3 (environment or remote failure)",
  interrupted: "130 (stopped by Ctrl-C or SIGTERM)",
  internal: "70 (a bug in netdbg)",
};

/**
 * Example parameters: each placeholder shows its own name, so the page reads like a template. A one-element
 * array serves both uses: in a template string it prints as `<name>`, and list parameters can join/map it.
 */
function placeholders(): Record<string, unknown> {
  return new Proxy(
    {},
    {
      get: (_t, key) => {
        if (typeof key !== "string") return undefined;
        return [`<${key}>`];
      },
    },
  );
}

/**
 * The fix as a page shows it: where a caller may pass its own `fix` (an optional parameter), the default text the
 * error gives without one; where `fix` is required, its placeholder.
 */
function fixText(spec: ErrorSpec<Record<string, unknown>>): string {
  const p = placeholders() as Record<string, unknown>;
  const withoutFix = new Proxy(p, { get: (t, key) => (key === "fix" ? undefined : Reflect.get(t, key)) });
  let text: string | undefined;
  try {
    text = spec.fix(withoutFix);
  } catch {
    text = undefined;
  }
  return text && text !== "undefined" ? text : spec.fix(p);
}

export interface ErrorPage {
  code: string;
  area: string;
  file: string;
  markdown: string;
}

export function renderErrorPages(): ErrorPage[] {
  const pages: ErrorPage[] = [];
  for (const [area, specs] of Object.entries(sections)) {
    for (const [code, raw] of Object.entries(specs)) {
      const spec = raw as ErrorSpec<Record<string, unknown>>;
      const p = placeholders();
      const full = `NETDBG-${code}`;
      pages.push({
        code: full,
        area,
        file: `${full}.md`,
        markdown: [
          `# ${full}: ${spec.title}`,
          "",
          `Area: ${area}. Exit code: ${EXIT_TEXT[spec.exit]}.`,
          "",
          "## What netdbg says",
          "",
          `> ${spec.message(p)}`,
          "",
          "## Fix",
          "",
          `> ${fixText(spec)}`,
          "",
          "Values in `<angle brackets>` are filled in from your situation when the error happens.",
          "",
        ].join("\n"),
      });
    }
  }
  return pages.sort((a, b) => a.code.localeCompare(b.code));
}

const code = (n: number) => `E${String(n).padStart(3, "0")}`;

export function renderErrorIndex(pages: ErrorPage[]): string {
  const rows = pages.map(
    (p) => `| [${p.code}](${p.file}) | ${p.area} | ${p.markdown.split("\n")[0]!.replace(/^# [^:]+: /, "")} |`,
  );
  return [
    "# netdbg error codes",
    "",
    "Generated from src/core/errors by `npm run docs`; a test keeps it current.",
    "",
    "## Code ranges",
    "",
    "Each area has its own range and catalog file (src/core/errors/<area>.ts); codes are never reused.",
    "",
    "| codes | area | covers |",
    "|---|---|---|",
    ...Object.entries(CODE_RANGES).map(([area, r]) => `| ${code(r.first)}–${code(r.last)} | ${area} | ${r.covers} |`),
    "",
    "## Codes",
    "",
    "| code | area | title |",
    "|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}
