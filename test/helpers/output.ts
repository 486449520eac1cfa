/**
 * What an in-process command prints: process.stdout and process.stderr are spied on and collected (nothing reaches
 * the terminal) until `restore()` or the test's `vi.restoreAllMocks()`.
 */
import { vi } from "vitest";

export interface Captured {
  /** The chunks written to stdout, in order. */
  out: string[];
  /** The chunks written to stderr, in order. */
  err: string[];
  restore(): void;
}

export function captureOutput(): Captured {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
    out.push(String(s));
    return true;
  });
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => {
    err.push(String(s));
    return true;
  });
  return {
    out,
    err,
    restore: () => {
      o.mockRestore();
      e.mockRestore();
    },
  };
}
