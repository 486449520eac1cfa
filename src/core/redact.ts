/** Redaction of secrets for logs, errors and --json (unless --show-secrets). */

export function redactSecret(secret: string): string {
  if (secret.length <= 4) return "…";
  return `${secret.slice(0, 4)}…`;
}

/** Replace every occurrence of each secret in `text` with its redacted form. */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < 4) continue;
    out = out.split(s).join(redactSecret(s));
    const lower = s.toLowerCase();
    if (lower !== s) out = out.split(lower).join(redactSecret(s));
    const upper = s.toUpperCase();
    if (upper !== s) out = out.split(upper).join(redactSecret(s));
  }
  return out;
}
