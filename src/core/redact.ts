/**
 * Redaction of secrets for logs, errors and --json (unless --show-secrets). A secret is never shown, not even
 * in part: its redacted form is a fingerprint (the first 8 hex digits of its SHA-256), enough to tell two keys
 * apart and nothing about the key. Text is scrubbed of each known secret in every encoding netdbg itself
 * produces: as it is, upper or lower case, hex, and base64 of its UTF-8 or UTF-16LE bytes (what
 * `powershell.exe -EncodedCommand` carries), at any alignment inside a longer base64 string.
 */
import { createHash } from "node:crypto";

export function fingerprint(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex").slice(0, 8);
}

export function redactSecret(secret: string): string {
  return `<redacted:${fingerprint(secret)}>`;
}

/**
 * The base64 text that stands for `bytes` wherever they sit in a longer base64 string: one variant per
 * alignment (0, 1 or 2 bytes before them in their group of three), without the characters that also depend
 * on the neighbouring bytes.
 */
export function base64Cores(bytes: Uint8Array): string[] {
  const out: string[] = [];
  for (let pre = 0; pre < 3; pre++) {
    const b64 = Buffer.concat([Buffer.alloc(pre), Buffer.from(bytes)]).toString("base64");
    const head = [0, 2, 3][pre] as number;
    const rest = (pre + bytes.length) % 3;
    const tail = rest === 0 ? 0 : rest === 1 ? 3 : 2; // the last partial group's mixed character and its padding
    const core = b64.slice(head, b64.length - tail);
    if (core.length >= 8) out.push(core);
  }
  return out;
}

/** Every spelling of `secret` that netdbg may print: plain, case-folded, hex, base64 (UTF-8 and UTF-16LE). */
export function secretSpellings(secret: string): string[] {
  const utf8 = Buffer.from(secret, "utf8");
  const utf16 = Buffer.from(secret, "utf16le");
  const forms = new Set<string>([secret, secret.toLowerCase(), secret.toUpperCase()]);
  const hex = utf8.toString("hex");
  forms.add(hex);
  forms.add(hex.toUpperCase());
  for (const b of [utf8, utf16, Buffer.from(secret.toUpperCase(), "utf16le"), Buffer.from(secret.toLowerCase(), "utf16le")])
    for (const c of base64Cores(b)) forms.add(c);
  return [...forms].filter((f) => f.length >= 4).sort((a, b) => b.length - a.length);
}

/** Replace every occurrence of each secret in `text`, in each of its spellings, with its redacted form. */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < 4) continue;
    const shown = redactSecret(s);
    for (const form of secretSpellings(s)) if (out.includes(form)) out = out.split(form).join(shown);
  }
  return out;
}

const ENCODED = /(-(?:EncodedCommand|enc|e|ec)\s+)([A-Za-z0-9+/=]{16,})/gi;

/**
 * A command line as logs and errors show it: an encoded PowerShell payload (`-EncodedCommand <base64>`) is left
 * out — it is a whole script, may carry parameters such as a key, and tells a reader nothing.
 */
export function displayCommand(command: string): string {
  return command.replace(
    ENCODED,
    (_m, flag: string, b64: string) => `${flag}<${b64.length} characters of base64: an encoded script, not shown>`,
  );
}
