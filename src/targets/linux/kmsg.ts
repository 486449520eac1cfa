/**
 * Kernel-log line normalization shared by the dmesg parser and the failure classifier. Prefix forms checked
 * against util-linux dmesg(1) output (`[  12.345678] `, `-T` `[Sat Nov 21 05:00:00 2026] `, `-x`
 * `kern  :info  : `, `--raw`/`-r` `<6>`), /dev/kmsg records (`6,339,5140900,-;`), CONFIG_PRINTK_CALLER
 * (`[    T1]`, `[    C0]`), journalctl -k (`Nov 21 05:00:00 host kernel: `, short-iso) and the real captures
 * as sysprogs/kgdboe (d4b4f22) and the kernel print them.
 */

const PREFIXES: RegExp[] = [
  /^\d+,\d+,\d+,[^;]*;/, // /dev/kmsg record
  /^<\d{1,3}>/, // syslog priority (dmesg -r)
  /^(?:kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|ftp|local\d)\s*:\s*(?:emerg|alert|crit|err|warn|notice|info|debug)\s*:\s*/, // dmesg -x
  /^[A-Z][a-z]{2}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}\s+\S+\s+kernel:\s*/, // journalctl short
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\s+\S+\s+kernel:\s*/, // journalctl short-iso
  /^\[\s*\d+\.\d+\]\s?/, // [   12.345678]
  /^\[\s*[A-Z][a-z]{2} [A-Z][a-z]{2}\s+\d{1,2} \d{2}:\d{2}:\d{2} \d{4}\]\s?/, // dmesg -T
  /^\[\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}[^\]]*\]\s?/, // dmesg --time-format iso
  /^\[\s*[TC]\d+\]\s?/, // printk caller id
];

/** One log line with every known prefix removed; a literal `\t` (as pasted from docs) becomes a tab. */
export function stripKmsgPrefix(line: string): string {
  let s = line.replace(/\r$/, "").replace(/\\t/g, "\t").trimStart();
  for (let changed = true; changed; ) {
    changed = false;
    for (const p of PREFIXES) {
      const m = p.exec(s);
      if (m && m[0].length > 0) {
        s = s.slice(m[0].length).trimStart();
        changed = true;
      }
    }
  }
  return s.trimEnd();
}

export function kmsgLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map(stripKmsgPrefix)
    .filter((l) => l.length > 0);
}
