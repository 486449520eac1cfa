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

/**
 * Classify a failed bcdedit run from its output and exit code. The English message lines come from the
 * fixtures (issue-appveyor-ci-919…, issue-windows-driver-samples-821…, issue-hackbgrt-180…,
 * pastebin-eXQXKxKU-export-failed, issue-bitlocker-attacks-6…). Output in another language cannot be
 * classified by text: it is returned raw as "unknown" (exit code non-zero) — callers must not depend on the
 * kind for safety decisions (Secure Boot is probed separately, locale-free).
 */
export function classifyBcdeditFailure(text: string, exitCode: number): BcdFailure {
  const body = lines(text)
    .filter((l) => l.trim() !== "" && !isEcho(l, "bcdedit") && !/^Exit code:/i.test(l.trim()))
    .map((l) => l.trim());
  const message = body.join(" ");
  const has = (re: RegExp) => re.test(message);
  if (exitCode === 0 && !has(/protected by Secure Boot policy/i)) return { code: undefined, kind: "ok", message };
  if (has(/protected by Secure Boot policy/i)) {
    return {
      code: "NETDBG-E201",
      kind: "secure-boot",
      message,
      fix: "Turn Secure Boot off in the firmware settings, then run setup again.",
    };
  }
  if (has(/Access is denied/i)) {
    return { code: "NETDBG-E200", kind: "access-denied", message, fix: "Run it from an elevated (administrator) session." };
  }
  if (has(/store export operation has failed/i)) {
    return { code: "NETDBG-E210", kind: "export-failed", message, fix: "Check that the export folder exists and is writable." };
  }
  if (has(/externally altered/i)) {
    return { code: "NETDBG-E210", kind: "store-altered", message, fix: "Close other boot editors, reboot, and try again." };
  }
  if (has(/could not be opened/i) || has(/cannot find the file specified/i)) {
    return {
      code: "NETDBG-E210",
      kind: "store-not-found",
      message,
      fix: "The boot store (or a file it names) is missing: check the system with 'bcdedit /enum' and 'sfc /scannow'.",
    };
  }
  if (has(/Parameter error|specified device is invalid|is not valid|bcdedit \/\?/i)) {
    return {
      code: "NETDBG-E210",
      kind: "invalid-parameter",
      message,
      fix: "A bcdedit argument was rejected; this is likely a bug in netdbg.",
    };
  }
  if (has(/error has occurred setting the element data/i)) {
    return { code: "NETDBG-E210", kind: "set-failed", message };
  }
  return { code: "NETDBG-E210", kind: "unknown", message };
}
