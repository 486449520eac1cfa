/**
 * Quoting for POSIX sh and PowerShell. Every value that reaches a shell goes through one of these (or is a
 * declared parameter). Property tests in test/core/quote.test.ts prove no value breaks out.
 */

const SH_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quote one word for POSIX sh: safe words stay bare, everything else becomes '…' with ' as '\''. */
export function shQuote(value: string): string {
  if (value.includes("\0")) throw new TypeError("a NUL byte cannot be passed to a shell");
  if (value !== "" && SH_SAFE.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Join an argument vector into one sh command line. */
export function shCommand(argv: readonly string[]): string {
  return argv.map(shQuote).join(" ");
}

/**
 * Quote one value as a PowerShell single-quoted string literal. PowerShell treats the typographic quotes
 * U+2018, U+2019, U+201A and U+201B as single quotes too, so each of them is doubled as well.
 */
export function psQuote(value: string): string {
  if (value.includes("\0")) throw new TypeError("a NUL byte cannot be passed to PowerShell");
  return `'${value.replace(/['\u2018\u2019\u201A\u201B]/g, (q) => q + q)}'`;
}

/** A PowerShell array literal of quoted strings: @('a','b'). */
export function psArray(values: readonly string[]): string {
  return `@(${values.map(psQuote).join(",")})`;
}

/** Base64 of the UTF-16LE script, for `powershell.exe -EncodedCommand`. */
export function psEncodedCommand(script: string): string {
  return Buffer.from(script, "utf16le").toString("base64");
}
