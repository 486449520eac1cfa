/**
 * Parsers of bcdedit.exe output. Layouts checked against test/fixtures/bcdedit/ (docs-dbgsettings-*.txt,
 * docs-enum-default-2pf-loadoptions-NO_KDNIC.txt, issue-windbg-feedback-378-enum-all-partial.txt,
 * docs-copy-current.txt, the failure samples) and Microsoft's bcdedit documentation (windows-driver-docs):
 * element names left-justified in a 24-column field, multi-value elements continued on lines indented by
 * white space, objects separated by a blank line, a heading underlined with dashes.
 *
 * bcdedit output is LOCALIZED (headings, the `identifier` label, Yes/No, status and error lines). These parsers
 * rely only on element names that stay English (debugtype, hostip, port, key, …), `{GUID}` / `{alias}`
 * patterns, the dashed underline and the layout, never on English headings or status lines. The one place
 * English text is matched is classifyBcdeditFailure, and there unknown text is kept raw.
 */
import { GUID_RE, ID_RE, isEcho, lines } from "./text.js";

/** An element line: a name without white space, white space, the value. Names are ASCII lower case in every
 * language we have seen, except that the `identifier` label can be translated (zh-CN): so any non-space run. */
const ELEMENT = /^(\S+)\s+(\S.*)$/;
const DASHES = /^-{3,}$/;

/** Yes / No as bcdedit displays booleans in common display languages (localized output). */
const YES = new Set([
  "yes",
  "ja",
  "oui",
  "sí",
  "si",
  "sì",
  "sim",
  "是",
  "はい",
  "да",
  "tak",
  "evet",
  "igen",
  "ano",
  "kyllä",
  "예",
]);
const NO = new Set([
  "no",
  "nein",
  "non",
  "não",
  "nao",
  "nee",
  "否",
  "いいえ",
  "нет",
  "nie",
  "hayır",
  "nem",
  "ne",
  "ei",
  "아니요",
]);

export function parseBcdBoolean(value: string): boolean | undefined {
  const v = value.trim().toLowerCase();
  if (YES.has(v)) return true;
  if (NO.has(v)) return false;
  return undefined;
}

export interface DbgSettings {
  /** As printed: NET, Serial, 1394, USB, Local. */
  debugtype?: string;
  hostip?: string;
  hostipv6?: string;
  port?: number;
  key?: string;
  busparams?: string;
  /** Yes/No in any language we know; undefined when absent or in an unknown language (see `elements.dhcp`). */
  dhcp?: boolean;
  /** A `Key=<k>` line bcdedit (or kdnet) prints when it generated the key. */
  generatedKey?: string;
  /** Every element as printed, by name. */
  elements: Record<string, string>;
}

/**
 * `bcdedit /dbgsettings` output → the debug settings. Takes prompt lines, command echoes, blank lines, CRLF,
 * a missing final status line and localized status lines (they are not element lines: they contain spaces
 * before any column gap, or start with a capital letter).
 */
export function parseDbgSettings(text: string): DbgSettings {
  const out: DbgSettings = { elements: {} };
  for (const line of lines(text)) {
    if (line.trim() === "" || isEcho(line, "bcdedit")) continue;
    const gen = /^\s*Key\s*=\s*(\S+)\s*$/i.exec(line);
    if (gen) {
      out.generatedKey = gen[1]!;
      continue;
    }
    const m = /^([a-z][a-z0-9]*)\s+(\S.*)$/.exec(line);
    if (!m) continue; // status line (any language), continuation or noise
    const name = m[1]!;
    const value = m[2]!.trim();
    out.elements[name] = value;
    switch (name) {
      case "debugtype":
        out.debugtype = value;
        break;
      case "hostip":
        out.hostip = value;
        break;
      case "hostipv6":
        out.hostipv6 = value;
        break;
      case "port": {
        const n = Number(value);
        if (Number.isInteger(n)) out.port = n;
        break;
      }
      case "key":
        out.key = value;
        break;
      case "busparams":
        out.busparams = value;
        break;
      case "dhcp": {
        const b = parseBcdBoolean(value);
        if (b !== undefined) out.dhcp = b;
        break;
      }
    }
  }
  return out;
}

export interface BcdElement {
  name: string;
  /** The first (or only) value. */
  value: string;
  /** All values of a multi-value element (displayorder, …), in order. */
  values: string[];
}

export interface BcdObject {
  /** The heading as printed (localized: "Windows Boot Loader", "Windows 启动加载器", …), if any. */
  heading?: string;
  /** The identifier value: a `{GUID}` or an alias such as `{current}`; "" when the object shows none. */
  identifier: string;
  /** The GUID when the identifier is one (lower case), else undefined (aliases need `/v` to show GUIDs). */
  guid?: string;
  elements: BcdElement[];
}

/** The value of a named element of an object (first value), or undefined. */
export function bcdElement(obj: BcdObject, name: string): string | undefined {
  return obj.elements.find((e) => e.name === name)?.value;
}

/** All values of a named element (multi-line elements), or []. */
export function bcdValues(obj: BcdObject, name: string): string[] {
  return obj.elements.find((e) => e.name === name)?.values ?? [];
}

/**
 * `bcdedit /enum [...]` output → objects. The identifier is found by shape, not by label: it is the first
 * element of an object whose value is a `{…}` identifier (the label is translated in some languages).
 */
export function parseBcdEnum(text: string): BcdObject[] {
  const ls = lines(text).filter((l) => !isEcho(l, "bcdedit"));
  // Group into blocks separated by blank lines.
  const blocks: string[][] = [];
  let cur: string[] = [];
  for (const l of ls) {
    if (l.trim() === "") {
      if (cur.length) blocks.push(cur);
      cur = [];
    } else cur.push(l);
  }
  if (cur.length) blocks.push(cur);

  const objects: BcdObject[] = [];
  for (const block of blocks) {
    let i = 0;
    let heading: string | undefined;
    if (block.length >= 2 && DASHES.test(block[1]!.trim())) {
      heading = block[0]!.trim();
      i = 2;
    }
    const elements: BcdElement[] = [];
    for (; i < block.length; i++) {
      const l = block[i]!;
      if (/^\s/.test(l)) {
        // continuation of a multi-value element
        const last = elements.at(-1);
        if (last) last.values.push(l.trim());
        continue;
      }
      const m = ELEMENT.exec(l);
      if (!m) continue;
      const value = m[2]!.trim();
      elements.push({ name: m[1]!, value, values: [value] });
    }
    if (elements.length === 0) continue; // a status line on its own, any language
    const first = elements[0]!;
    const hasId = ID_RE.test(first.value);
    if (!hasId && heading === undefined) continue; // e.g. "The operation completed successfully."
    const obj: BcdObject = { identifier: hasId ? first.value : "", elements };
    if (hasId) first.name = first.name === "identifier" ? first.name : "identifier";
    if (heading !== undefined) obj.heading = heading;
    if (hasId && GUID_RE.test(first.value)) obj.guid = first.value.toLowerCase();
    objects.push(obj);
  }
  return objects;
}

/**
 * `bcdedit /copy … /d …` output → the new entry's `{GUID}` (lower case), or undefined. The GUID is taken from
 * output lines only (a command echo can itself contain a GUID), by shape, so any display language works.
 */
export function parseCopyResult(text: string): string | undefined {
  let found: string | undefined;
  for (const l of lines(text)) {
    if (isEcho(l, "bcdedit")) continue;
    const m = GUID_RE.exec(l);
    if (m) found = m[0].toLowerCase();
  }
  return found;
}

export type BcdFailureKind =
  | "ok"
  | "secure-boot"
  | "access-denied"
  | "store-not-found"
  | "store-altered"
  | "export-failed"
  | "invalid-parameter"
  | "set-failed"
  | "unknown";

export interface BcdFailure {
  /** netdbg error code for this kind (NETDBG-E2xx), or undefined for "ok". */
  code: string | undefined;
  kind: BcdFailureKind;
  /** bcdedit's own message lines, joined by a space (unknown or localized text is kept raw). */
  message: string;
  /** What to do, when the kind is known. */
  fix?: string;
}

/** What netdbg knows about the failed run besides its text (all optional). */
export interface BcdFailureContext {
  /** The bcdedit argument vector that failed (e.g. `/export`, `/set`): a fact no language changes. */
  command?: readonly string[];
  /** Whether the session's token is elevated (whoami): not elevated means access denied, whatever the words. */
  elevated?: boolean;
}

/*
 * Signs of each kind. bcdedit prints two lines: what it was doing, then the system message of the Win32 error,
 * both in the display language, which cannot be chosen. So a kind is recognised first by facts that do not vary
 * (the exit code, the command, an error number such as 0x80070005 where one is printed, `bcdedit /?` which every
 * language prints verbatim, the product name "Secure Boot"), then by the words of the languages listed here.
 * Each wording and its public source are in test/targets/windows/bcdedit-failures.test.ts; unknown text is kept
 * raw in `message` (and in NETDBG-E210's detail).
 */
const SIGNS: readonly { kind: Exclude<BcdFailureKind, "ok" | "unknown">; res: readonly RegExp[] }[] = [
  {
    kind: "secure-boot",
    res: [/secure\s*boot/i, /sicheren\s+Start/i, /démarrage\s+sécurisé/i, /安全引导|安全启动/, /bezpieczn\S*\s+rozruch/i],
  },
  {
    kind: "access-denied",
    res: [/0x80070005|0xc0000022/i, /access is denied/i, /zugriff verweigert/i, /accès refusé/i, /拒绝访问/, /odmowa dostępu/i],
  },
  { kind: "export-failed", res: [/export operation has failed/i] },
  { kind: "store-altered", res: [/0x800703ee/i, /externally altered/i] },
  {
    kind: "store-not-found",
    res: [
      /0x80070002|0xc000000f/i,
      /could not be (opened|found)/i,
      /cannot find the (file|path)/i,
      /konnte nicht (geöffnet|gefunden) werden/i,
      /kann die angegebene (Datei|Pfad) nicht finden/i,
      /n'a pas pu être ouvert/i,
      /无法打开|找不到指定的文件/,
    ],
  },
  { kind: "invalid-parameter", res: [/bcdedit(\.exe)?\s+\/\?/i, /parameter error|specified device is invalid|is not valid/i] },
  { kind: "set-failed", res: [/error has occurred setting the element data|error setting element data/i] },
];

const FIXES: Partial<Record<BcdFailureKind, { code: string; fix?: string }>> = {
  "secure-boot": {
    code: "NETDBG-E201",
    fix: "Suspend BitLocker first if it protects the system drive, then turn Secure Boot off in the firmware settings and run setup again.",
  },
  "access-denied": { code: "NETDBG-E200", fix: "Run it from an elevated (administrator) session." },
  "export-failed": { code: "NETDBG-E210", fix: "Check that the export folder exists and is writable." },
  "store-altered": { code: "NETDBG-E210", fix: "Close other boot editors, reboot, and try again." },
  "store-not-found": {
    code: "NETDBG-E210",
    fix: "The boot store (or a file it names) is missing: check the system with 'bcdedit /enum' and 'sfc /scannow'.",
  },
  "invalid-parameter": { code: "NETDBG-E210", fix: "A bcdedit argument was rejected; this is likely a bug in netdbg." },
  "set-failed": { code: "NETDBG-E210" },
};

/**
 * Classify a failed bcdedit run from its exit code, the command, what netdbg knows of the session, and its text
 * (see SIGNS). The raw text is always kept in `message`: a wording no sign knows is "unknown", never guessed.
 * Secure Boot is probed separately, locale-free, so no safety decision depends on the words.
 */
export function classifyBcdeditFailure(text: string, exitCode: number, ctx: BcdFailureContext = {}): BcdFailure {
  const body = lines(text)
    .filter((l) => l.trim() !== "" && !isEcho(l, "bcdedit") && !/^Exit code:/i.test(l.trim()))
    .map((l) => l.trim());
  const message = body.join(" ");
  const found = SIGNS.find((s) => s.res.some((re) => re.test(message)))?.kind;
  if (exitCode === 0 && found !== "secure-boot") return { code: undefined, kind: "ok", message };
  let kind: BcdFailureKind = found ?? "unknown";
  if (kind !== "secure-boot" && ctx.elevated === false) kind = "access-denied";
  else if (kind === "unknown" && ctx.command?.[0]?.toLowerCase() === "/export") kind = "export-failed";
  const f = FIXES[kind];
  return { code: f?.code ?? "NETDBG-E210", kind, message, ...(f?.fix ? { fix: f.fix } : {}) };
}
