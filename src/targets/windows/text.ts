/**
 * Text as people paste it: a BOM, CRLF or lone CR line ends, prompt lines and command echoes, trailing blanks.
 * Shared by the bcdedit and kdnet.exe parsers.
 */

/** Split into lines: BOM removed, CRLF / CR / LF all end a line, trailing white space kept off. */
export function lines(text: string): string[] {
  return text
    .replace(/^\uFEFF/, "")
    .split(/\r\n|\r|\n/)
    .map((l) => l.replace(/[ \t]+$/, ""));
}

/**
 * A prompt line or command echo: `C:\KDNET> bcdedit /enum`, `PS C:\> bcdedit`, `> bcdedit /debug on`,
 * `E:>bcdedit /export x`, `bcdedit /copy {current} /d "x"`, `Execute: bcdedit …` (a log's echo), `kdnet.exe`.
 */
export function isEcho(line: string, tool: "bcdedit" | "kdnet"): boolean {
  const t = line.trim();
  if (/^(PS\s+)?[A-Za-z]:[^>]*>/.test(t)) return true;
  if (/^>\s*/.test(t) && new RegExp(`^>\\s*${tool}`, "i").test(t)) return true;
  if (new RegExp(`^(Execute:\\s*)?${tool}(\\.exe)?(\\s|$)`, "i").test(t)) return true;
  return false;
}

/** The GUID shape of a BCD identifier: {8-4-4-4-12} hex. */
export const GUID_RE = /\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}/;
/** Any BCD identifier as bcdedit prints it: a GUID or a well-known alias such as {current}, {dbgsettings}. */
export const ID_RE = /^\{[0-9A-Za-z-]+\}$/;
