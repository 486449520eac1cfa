import { readFileSync } from "node:fs";

/** A file of the shared real-output fixtures (test/fixtures), as bytes decoded UTF-8. */
export function fixture(rel: string): string {
  return readFileSync(new URL(`../../fixtures/${rel}`, import.meta.url), "utf8");
}
