/**
 * The BCD store of the Windows target model, with bcdedit.exe's command semantics and output layout.
 *
 * Layout checked against test/fixtures/bcdedit/ (24-column element names, continuation lines for
 * multi-value elements, heading + dashed underline, blank line between objects, status lines, the two-line
 * failure form, CRLF) and Microsoft's bcdedit documentation (windows-driver-docs). Elements are displayed sorted by their BCD
 * element type id, which is the order the fixtures show (dbgsettings: busparams 0x12000019, key 0x1200001d,
 * debugtype 0x15000011, hostip 0x1500001a, port 0x1500001b, dhcp 0x1600001c; the {default} sample likewise).
 *
 * Localized output modes: en-US (the fixtures), de-DE, zh-CN, pl-PL, vi-VN (only its Yes/No) and fr-FR (Yes/No and failures). The non-English strings are the model's own
 * renderings of the shape the research note describes (headings, the identifier label, Yes/No, status and
 * error lines translated; element names not); they are not captures.
 *
 * The store serializes canonically (objects by GUID, elements by type id), like a registry hive keeps keys
 * sorted, so "restored byte for byte" is a meaningful comparison of `serialize()` outputs.
 */

export type Locale = "en-US" | "de-DE" | "zh-CN" | "pl-PL" | "vi-VN" | "fr-FR";
export type ObjectKind = "fwbootmgr" | "bootmgr" | "osloader" | "dbgsettings" | "resume" | "memdiag" | "settings";
/** An element value: a boolean, or one or more strings (ids are stored as GUIDs). */
export type Value = boolean | string[];

export interface BcdObjectState {
  id: string; // {guid}, lower case
  kind: ObjectKind;
  elements: Record<string, Value>;
}

export interface BcdStoreState {
  objects: BcdObjectState[];
}

export const WELL_KNOWN: Readonly<Record<string, string>> = {
  "{fwbootmgr}": "{a5a30fa2-3d06-4e9f-b5f4-a01df9d1fcba}",
  "{bootmgr}": "{9dea862c-5cdd-4e70-acc1-f32b344d4795}",
  "{dbgsettings}": "{4636856e-540f-4170-a130-a84776f4c654}",
  "{globalsettings}": "{7ea2e1ac-2e61-4728-aaa3-896d9d0a9f0e}",
  "{bootloadersettings}": "{6efb52bf-1766-41db-a6b3-0ee5eff72bd7}",
  "{memdiag}": "{b2721d73-1db4-4c62-bf78-c548a880142d}",
  "{hypervisorsettings}": "{7ff607e0-4395-11db-b0de-0800200c9a66}",
};

const TYPE_ID: Readonly<Record<string, number>> = {
  device: 0x11000001,
  path: 0x12000002,
  description: 0x12000004,
  locale: 0x12000005,
  inherit: 0x14000006,
  recoverysequence: 0x14000008,
  recoveryenabled: 0x16000009,
  bootdebug: 0x16000010,
  debugtype: 0x15000011,
  // BcdLibraryInteger_SerialDebuggerPort / _SerialDebuggerBaudRate (learn.microsoft.com BcdLibraryElementTypes)
  debugport: 0x15000013,
  baudrate: 0x15000014,
  busparams: 0x12000019,
  hostip: 0x1500001a,
  // not in Microsoft's public enumeration: the model's own id (string format) so it never collides with hostip
  hostipv6: 0x1200ff01,
  port: 0x1500001b,
  dhcp: 0x1600001c,
  key: 0x1200001d,
  loadoptions: 0x12000030,
  testsigning: 0x16000049,
  isolatedcontext: 0x16000060,
  displaymessageoverride: 0x15000065,
  allowedinmemorysettings: 0x17000077,
  flightsigning: 0x1600007e,
  osdevice: 0x21000001,
  systemroot: 0x22000002,
  resumeobject: 0x23000003,
  default: 0x23000003,
  displayorder: 0x24000001,
  bootsequence: 0x24000002,
  toolsdisplayorder: 0x24000010,
  timeout: 0x25000004,
  nx: 0x25000020,
  bootmenupolicy: 0x250000c2,
  debug: 0x260000a0,
  nointegritychecks: 0x26000048,
  hypervisordebug: 0x260000f2,
};

const BOOLEAN = new Set([
  "debug",
  "bootdebug",
  "dhcp",
  "recoveryenabled",
  "testsigning",
  "isolatedcontext",
  "flightsigning",
  "hypervisordebug",
  "nointegritychecks",
]);
const ID_VALUED = new Set([
  "default",
  "resumeobject",
  "recoverysequence",
  "inherit",
  "displayorder",
  "bootsequence",
  "toolsdisplayorder",
]);
const LIST_VALUED = new Set(["displayorder", "bootsequence", "toolsdisplayorder", "inherit"]);
/** Elements Secure Boot policy protects (research note §5: debug, testsigning, …). */
const SECURE_BOOT_PROTECTED = new Set(["debug", "bootdebug", "testsigning", "nointegritychecks", "hypervisordebug"]);

interface Strings {
  identifier: string;
  yes: string;
  no: string;
  ok: string;
  copied: (g: string) => string;
  headings: Record<ObjectKind, string>;
  setFailed: string;
  deleteFailed: string;
  secureBoot: string;
  openFailed: string;
  accessDenied: string;
  notFound: string;
  exportFailed: string;
  importFailed: string;
  pathNotFound: string;
  invalidEntry: string;
  paramIncorrect: string;
  elementNotFound: string;
  invalidCommand: string;
  help: string;
  parameterError: string;
}

const EN: Strings = {
  identifier: "identifier",
  yes: "Yes",
  no: "No",
  ok: "The operation completed successfully.",
  copied: (g) => `The entry was successfully copied to ${g}.`,
  headings: {
    fwbootmgr: "Firmware Boot Manager",
    bootmgr: "Windows Boot Manager",
    osloader: "Windows Boot Loader",
    dbgsettings: "Debugger Settings",
    resume: "Resume from Hibernate",
    memdiag: "Windows Memory Tester",
    settings: "Global Settings",
  },
  setFailed: "An error has occurred setting the element data.",
  deleteFailed: "An error has occurred deleting the element data.",
  secureBoot: "The value is protected by Secure Boot policy and cannot be modified or deleted.",
  openFailed: "The boot configuration data store could not be opened.",
  accessDenied: "Access is denied.",
  notFound: "The system cannot find the file specified.",
  exportFailed: "The store export operation has failed.",
  importFailed: "The store import operation has failed.",
  pathNotFound: "The system cannot find the path specified.",
  invalidEntry: "The specified entry identifier is invalid.",
  paramIncorrect: "The parameter is incorrect.",
  elementNotFound: "Element not found.",
  invalidCommand: "The specified command is not valid.",
  help: 'Run "bcdedit /?" for command line help.',
  parameterError: "Parameter error.",
};

const DE: Strings = {
  ...EN,
  identifier: "Bezeichner",
  yes: "Ja",
  no: "Nein",
  ok: "Der Vorgang wurde erfolgreich beendet.",
  copied: (g) => `Der Eintrag wurde erfolgreich in ${g} kopiert.`,
  headings: {
    fwbootmgr: "Firmware-Start-Manager",
    bootmgr: "Windows-Start-Manager",
    osloader: "Windows-Startladeprogramm",
    dbgsettings: "Debugeinstellungen",
    resume: "Fortsetzen nach Ruhezustand",
    memdiag: "Windows-Speichertestprogramm",
    settings: "Globale Einstellungen",
  },
  setFailed: "Beim Festlegen der Elementdaten ist ein Fehler aufgetreten.",
  deleteFailed: "Beim Löschen der Elementdaten ist ein Fehler aufgetreten.",
  secureBoot: "Der Wert ist durch die Richtlinie für den sicheren Start geschützt und kann nicht geändert oder gelöscht werden.",
  openFailed: "Der Startkonfigurationsdatenspeicher konnte nicht geöffnet werden.",
  accessDenied: "Zugriff verweigert",
  notFound: "Das System kann die angegebene Datei nicht finden.",
  elementNotFound: "Element nicht gefunden.",
};

const ZH: Strings = {
  ...EN,
  identifier: "标识符",
  yes: "是",
  no: "否",
  ok: "操作成功完成。",
  copied: (g) => `已将该项成功复制到 ${g}。`,
  headings: {
    fwbootmgr: "固件启动管理器",
    bootmgr: "Windows 启动管理器",
    osloader: "Windows 启动加载器",
    dbgsettings: "调试器设置",
    resume: "从休眠状态恢复",
    memdiag: "Windows 内存测试程序",
    settings: "全局设置",
  },
  setFailed: "设置元素数据时出错。",
  deleteFailed: "删除元素数据时出错。",
  secureBoot: "该值受安全引导策略保护，无法进行修改或删除。",
  openFailed: "无法打开启动配置数据存储。",
  accessDenied: "拒绝访问。",
  notFound: "系统找不到指定的文件。",
  elementNotFound: "找不到元素。",
};

/** A language no bcdedit-text table of netdbg ever knew (a restore keyed on displayed words cannot read it). */
const PL: Strings = {
  ...EN,
  identifier: "identyfikator",
  yes: "Tak",
  no: "Nie",
  ok: "Operacja zakończona pomyślnie.",
  headings: {
    fwbootmgr: "Menedżer rozruchu oprogramowania układowego",
    bootmgr: "Menedżer rozruchu systemu Windows",
    osloader: "Moduł ładujący rozruchu systemu Windows",
    dbgsettings: "Ustawienia debugera",
    resume: "Wznów z hibernacji",
    memdiag: "Tester pamięci systemu Windows",
    settings: "Ustawienia globalne",
  },
  setFailed: "Wystąpił błąd podczas ustawiania danych elementu.",
  deleteFailed: "Wystąpił błąd podczas usuwania danych elementu.",
  elementNotFound: "Nie znaleziono elementu.",
};

/** A language whose Yes/No no table in netdbg lists at all (the rest of its strings left English). */
const VI: Strings = { ...EN, yes: "Có", no: "Không" };

/** French: Yes/No and the failure lines only (the model's own wording; headings left English). */
const FR: Strings = {
  ...EN,
  yes: "Oui",
  no: "Non",
  setFailed: "Une erreur s'est produite lors de la définition des données de l'élément.",
  secureBoot: "La valeur est protégée par la stratégie de démarrage sécurisé et ne peut pas être modifiée ni supprimée.",
  openFailed: "Le magasin de données de configuration de démarrage n'a pas pu être ouvert.",
  accessDenied: "Accès refusé.",
  notFound: "Le fichier spécifié est introuvable.",
};

const STRINGS: Record<Locale, Strings> = { "en-US": EN, "de-DE": DE, "zh-CN": ZH, "pl-PL": PL, "vi-VN": VI, "fr-FR": FR };

/** The two lines bcdedit prints for a failure, in the model's display language (for injected faults). */
export function bcdFailureText(locale: Locale, kind: "secure-boot" | "access-denied" | "store-not-found"): string {
  const S = STRINGS[locale];
  const [a, b] =
    kind === "secure-boot"
      ? [S.setFailed, S.secureBoot]
      : kind === "access-denied"
        ? [S.openFailed, S.accessDenied]
        : [S.openFailed, S.notFound];
  return `${a}\r\n${b}\r\n`;
}
const KIND_RANK: Record<ObjectKind, number> = {
  fwbootmgr: 0,
  bootmgr: 1,
  osloader: 2,
  resume: 3,
  memdiag: 4,
  dbgsettings: 5,
  settings: 6,
};

export interface BcdResult {
  exitCode: number;
  output: string;
}

export interface BcdContext {
  locale: Locale;
  elevated: boolean;
  secureBoot: boolean;
  /** The booted OS loader's GUID ({current}). */
  currentId: string;
  /** Files on the target (exports). */
  files: Record<string, string>;
  /** Deterministic GUIDs for /copy. */
  newGuid(): string;
}

const typeIdOf = (name: string) => TYPE_ID[name] ?? 0x7fffffff;

/** Canonical text of a store (objects by id, elements by type id then name). */
export function serializeStore(s: BcdStoreState): string {
  const objects = [...s.objects]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((o) => ({
      id: o.id,
      kind: o.kind,
      elements: Object.keys(o.elements)
        .sort((a, b) => typeIdOf(a) - typeIdOf(b) || (a < b ? -1 : a > b ? 1 : 0))
        .map((k) => [k, o.elements[k]]),
    }));
  return `${JSON.stringify({ format: "netdbg-model-bcd-hive/1", objects })}\r\n`;
}

export function parseStore(text: string): BcdStoreState {
  const j = JSON.parse(text) as { format: string; objects: { id: string; kind: ObjectKind; elements: [string, Value][] }[] };
  if (j.format !== "netdbg-model-bcd-hive/1") throw new Error("not a store");
  return { objects: j.objects.map((o) => ({ id: o.id, kind: o.kind, elements: Object.fromEntries(o.elements) })) };
}

/** Run bcdedit with an argument vector against `store` (mutated in place). Output uses CRLF. */
export function bcdedit(store: BcdStoreState, ctx: BcdContext, argv: readonly string[]): BcdResult {
  const S = STRINGS[ctx.locale];
  const out = (lines: string[], exitCode = 0): BcdResult => ({ exitCode, output: lines.map((l) => `${l}\r\n`).join("") });
  const fail = (a: string, b: string) => out([a, b], 1);
  const paramError = () => out([S.invalidCommand, S.help, S.parameterError], 1);
  if (!ctx.elevated) return fail(S.openFailed, S.accessDenied);

  let args = [...argv];
  let st = store;
  let fromFile = false;
  if (args[0] && /^[/-]store$/i.test(args[0])) {
    const file = args[1];
    if (file === undefined) return paramError();
    const text = ctx.files[file];
    if (text === undefined) return fail(S.openFailed, S.notFound);
    st = parseStore(text);
    fromFile = true;
    args = args.slice(2);
  }
  const [cmdRaw, ...rest] = args;
  if (!cmdRaw) return paramError();
  const cmd = cmdRaw.toLowerCase().replace(/^-/, "/");

  const resolve = (id: string): string | undefined => {
    const l = id.toLowerCase();
    if (l === "{current}") return ctx.currentId;
    if (l === "{default}") {
      const d = find(WELL_KNOWN["{bootmgr}"]!)?.elements.default;
      return Array.isArray(d) ? d[0] : undefined;
    }
    return WELL_KNOWN[l] ?? l;
  };
  function find(id: string): BcdObjectState | undefined {
    return st.objects.find((o) => o.id === id);
  }
  const bootmgr = () => find(WELL_KNOWN["{bootmgr}"]!);
  const display = (v: Value, verbose: boolean): string[] => {
    if (typeof v === "boolean") return [v ? S.yes : S.no];
    if (verbose) return v;
    return v.map((x) => {
      if (x === ctx.currentId) return "{current}";
      const alias = Object.entries(WELL_KNOWN).find(([, g]) => g === x)?.[0];
      if (alias) return alias;
      const d = bootmgr()?.elements.default;
      if (Array.isArray(d) && d[0] === x) return "{default}";
      return x;
    });
  };
  const line = (name: string, value: string) => (name.length >= 24 ? `${name} ${value}` : `${name.padEnd(24)}${value}`);
  const render = (o: BcdObjectState, verbose: boolean, withHeader = true): string[] => {
    const ls: string[] = [];
    if (withHeader) {
      const h = S.headings[o.kind];
      ls.push(h, "-".repeat(h.length));
      ls.push(line(S.identifier, display([o.id], verbose)[0]!));
    }
    const names = Object.keys(o.elements).sort((a, b) => typeIdOf(a) - typeIdOf(b) || (a < b ? -1 : 1));
    for (const n of names) {
      const vals = display(o.elements[n]!, verbose);
      ls.push(line(n, vals[0] ?? ""));
      for (const more of vals.slice(1)) ls.push(" ".repeat(24) + more);
    }
    return ls;
  };
  const parseValue = (name: string, raw: string[]): Value | undefined => {
    if (BOOLEAN.has(name)) {
      const r = (raw[0] ?? "").toLowerCase();
      if (["on", "yes", "true", "1"].includes(r)) return true;
      if (["off", "no", "false", "0"].includes(r)) return false;
      return undefined;
    }
    if (ID_VALUED.has(name)) {
      const ids = raw.map(resolve);
      if (ids.some((x) => x === undefined || !find(x))) return undefined;
      return LIST_VALUED.has(name) ? (ids as string[]) : [ids[0]!];
    }
    return [raw.join(" ")];
  };
  const splitIdAndRest = (xs: string[]): [string, string[]] => {
    if (xs[0]?.startsWith("{")) return [xs[0], xs.slice(1)];
    return ["{current}", xs];
  };
  const removeRefs = (id: string) => {
    const bm = bootmgr();
    if (!bm) return;
    for (const k of ["displayorder", "bootsequence", "toolsdisplayorder"]) {
      const v = bm.elements[k];
      if (Array.isArray(v)) {
        const left = v.filter((x) => x !== id);
        if (left.length) bm.elements[k] = left;
        else delete bm.elements[k];
      }
    }
  };

  switch (cmd) {
    case "/enum": {
      const verbose = rest.some((r) => /^[/-]v$/i.test(r));
      const sel = rest.filter((r) => !/^[/-]v$/i.test(r))[0]?.toLowerCase() ?? "active";
      let objs: BcdObjectState[];
      const sorted = () =>
        [...st.objects].sort((a, b) => KIND_RANK[a.kind] - KIND_RANK[b.kind] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      if (sel === "all") objs = sorted();
      else if (sel === "osloader") objs = sorted().filter((o) => o.kind === "osloader");
      else if (sel === "active") {
        const bm = bootmgr();
        const order = bm && Array.isArray(bm.elements.displayorder) ? bm.elements.displayorder : [];
        objs = [...(bm ? [bm] : []), ...order.map((g) => find(g)).filter((o): o is BcdObjectState => o !== undefined)];
      } else {
        const id = resolve(sel);
        const o = id ? find(id) : undefined;
        if (!o) return fail(S.invalidEntry, S.paramIncorrect);
        objs = [o];
      }
      const ls: string[] = [""];
      objs.forEach((o, i) => {
        if (i > 0) ls.push("");
        ls.push(...render(o, verbose));
      });
      return out(ls);
    }
    case "/dbgsettings": {
      const dbg = find(WELL_KNOWN["{dbgsettings}"]!);
      if (!dbg) return fail(S.openFailed, S.notFound);
      if (rest.length === 0 || (rest.length === 1 && /^[/-]v$/i.test(rest[0]!))) {
        return out([...render(dbg, false, false), S.ok]);
      }
      const [type, ...opts] = rest;
      if (!/^net$/i.test(type!)) return paramError(); // the model only implements NET
      const kv: Record<string, string> = {};
      const flags = new Set<string>();
      for (const o of opts) {
        const m = /^([a-z0-9]+):(.*)$/i.exec(o);
        if (m) kv[m[1]!.toLowerCase()] = m[2]!;
        else flags.add(o.toLowerCase());
      }
      const port = Number(kv.port ?? "50000");
      if (!Number.isInteger(port) || port < 49152 || port > 65535) return paramError();
      if (kv.hostip === undefined && kv.hostipv6 === undefined) return paramError();
      if (kv.key !== undefined && !/^[0-9a-z]{1,13}(\.[0-9a-z]{1,13}){3}$/i.test(kv.key)) return paramError();
      const e = dbg.elements;
      for (const k of ["debugport", "baudrate", "hostip", "hostipv6"]) delete e[k];
      e.debugtype = ["NET"];
      if (kv.hostip !== undefined) e.hostip = [kv.hostip];
      else e.hostipv6 = [kv.hostipv6!];
      e.port = [String(port)];
      e.dhcp = !flags.has("nodhcp");
      if (kv.busparams !== undefined) e.busparams = [kv.busparams];
      let generated: string | undefined;
      if (kv.key !== undefined) e.key = [kv.key];
      else if (flags.has("newkey") || !e.key) {
        generated = `${ctx.newGuid().slice(1, 9)}.${ctx.newGuid().slice(1, 9)}.${ctx.newGuid().slice(1, 9)}.${ctx.newGuid().slice(1, 9)}`;
        e.key = [generated];
      }
      return out(generated ? [`Key=${generated}`] : [S.ok]);
    }
    case "/copy": {
      const src = rest[0] ? resolve(rest[0]) : undefined;
      const o = src ? find(src) : undefined;
      const dIdx = rest.findIndex((r) => /^[/-]d$/i.test(r));
      if (!o || dIdx < 0 || rest[dIdx + 1] === undefined) return paramError();
      if (fromFile) return paramError();
      const guid = ctx.newGuid();
      const copy: BcdObjectState = { id: guid, kind: o.kind, elements: structuredClone(o.elements) };
      copy.elements.description = [rest[dIdx + 1]!];
      st.objects.push(copy);
      const bm = bootmgr();
      if (o.kind === "osloader" && bm) {
        const order = Array.isArray(bm.elements.displayorder) ? bm.elements.displayorder : [];
        bm.elements.displayorder = [...order, guid];
      }
      return out([S.copied(guid)]);
    }
    case "/delete": {
      const id = rest[0] ? resolve(rest[0]) : undefined;
      const o = id ? find(id) : undefined;
      if (!o) return fail(S.invalidEntry, S.paramIncorrect);
      if (o.id === ctx.currentId && !rest.some((r) => /^[/-]f$/i.test(r))) return paramError();
      st.objects = st.objects.filter((x) => x !== o);
      if (st === store) store.objects = st.objects;
      removeRefs(o.id);
      return out([S.ok]);
    }
    case "/debug": {
      const [idRaw, more] = splitIdAndRest(rest);
      const id = resolve(idRaw);
      const o = id ? find(id) : undefined;
      const v = parseValue("debug", more);
      if (!o || v === undefined) return paramError();
      if (ctx.secureBoot) return fail(S.setFailed, S.secureBoot);
      o.elements.debug = v;
      return out([S.ok]);
    }
    case "/bootsequence":
    case "/default": {
      const bm = bootmgr();
      const name = cmd === "/default" ? "default" : "bootsequence";
      const v = bm ? parseValue(name, rest) : undefined;
      if (!bm || v === undefined || rest.length === 0) return fail(S.setFailed, S.invalidEntry);
      bm.elements[name] = v;
      return out([S.ok]);
    }
    case "/displayorder": {
      // bcdedit /displayorder {id} /remove | /addlast | /addfirst (learn.microsoft.com bcdedit /displayorder)
      const bm = bootmgr();
      const op = rest.find((r) => /^\/(remove|addlast|addfirst)$/i.test(r))?.toLowerCase();
      const ids = rest.filter((r) => !r.startsWith("/")).map(resolve);
      if (!bm || !op || ids.length !== 1 || ids[0] === undefined || !find(ids[0])) return fail(S.setFailed, S.invalidEntry);
      const id = ids[0];
      const order = (Array.isArray(bm.elements.displayorder) ? bm.elements.displayorder : []).filter((x) => x !== id);
      const next = op === "/remove" ? order : op === "/addfirst" ? [id, ...order] : [...order, id];
      if (next.length) bm.elements.displayorder = next;
      else delete bm.elements.displayorder;
      return out([S.ok]);
    }
    case "/set": {
      const [idRaw, more] = splitIdAndRest(rest);
      const id = resolve(idRaw);
      const o = id ? find(id) : undefined;
      const name = more[0]?.toLowerCase();
      if (!o || !name || more.length < 2) return paramError();
      if (ctx.secureBoot && SECURE_BOOT_PROTECTED.has(name)) return fail(S.setFailed, S.secureBoot);
      const v = parseValue(name, more.slice(1));
      if (v === undefined) return fail(S.setFailed, S.paramIncorrect);
      o.elements[name] = v;
      return out([S.ok]);
    }
    case "/deletevalue": {
      const [idRaw, more] = splitIdAndRest(rest);
      const id = resolve(idRaw);
      const o = id ? find(id) : undefined;
      const name = more[0]?.toLowerCase();
      if (!o || !name) return paramError();
      if (ctx.secureBoot && SECURE_BOOT_PROTECTED.has(name)) return fail(S.deleteFailed, S.secureBoot);
      if (!(name in o.elements)) return fail(S.deleteFailed, S.elementNotFound);
      delete o.elements[name];
      return out([S.ok]);
    }
    case "/export": {
      const file = rest[0];
      if (!file) return paramError();
      const dir = file.replace(/\\[^\\]*$/, "");
      if (!Object.keys(ctx.files).some((f) => f.startsWith(`${dir}\\`)) && !(`${dir}\\` in ctx.files)) {
        return fail(S.exportFailed, S.pathNotFound);
      }
      ctx.files[file] = serializeStore(st);
      return out([S.ok]);
    }
    case "/import": {
      const file = rest[0];
      const text = file ? ctx.files[file] : undefined;
      if (text === undefined) return fail(S.importFailed, S.notFound);
      store.objects = parseStore(text).objects;
      return out([S.ok]);
    }
    default:
      return paramError();
  }
}

/*
 * The BCD WMI provider (root\wmi, Bcd.mof) over the same store: the locale-free way to read and write BCD.
 * learn.microsoft.com/previous-versions/windows/desktop/bcd/bcdstore (OpenStore, OpenObject),
 * .../bcd/enumerateelements-bcdobject, .../bcd/bcdelementtype (format = bits 24-27 of the type),
 * .../bcd/bcdintegerelement (uint64 passed as a string), .../bcd/setintegerelement-bcdobject and its siblings.
 * Element objects carry StoreFilePath, ObjectId, Type and the one value property of their class
 * (String, Boolean, Integer, Id, Ids, Integers, Device). Values are typed, never displayed text.
 */

/** The format nibble of an element type (BcdElementType): 1 device, 2 string, 3 object, 4 object list, 5 integer, 6 boolean, 7 integer list. */
export const formatOf = (type: number) => (type >>> 24) & 0xf;

/** BcdLibrary_DebuggerType (learn.microsoft.com .../bcd/bcdlibrary-debuggertype) and the other enumerations bcdedit names. */
const ENUMS: Readonly<Record<string, readonly string[]>> = {
  debugtype: ["Serial", "1394", "USB", "NET"],
  nx: ["OptIn", "OptOut", "AlwaysOff", "AlwaysOn"],
  bootmenupolicy: ["Legacy", "Standard"],
  // not a published enumeration: the order is the model's assumption (only its round trip matters here)
  displaymessageoverride: [
    "Default",
    "Resume",
    "HyperV",
    "Recovery",
    "StartupRepair",
    "SystemImageRecovery",
    "CommandPrompt",
    "SystemRestore",
    "PushButtonReset",
  ],
};

function nameOfType(type: number, kind: ObjectKind): string | undefined {
  if (type === 0x23000003) return kind === "bootmgr" ? "default" : "resumeobject";
  return Object.entries(TYPE_ID).find(([, t]) => t === type)?.[0];
}

/** An IPv4 address as BcdLibraryInteger_DebuggerNetHostIP holds it: the four bytes in network order, read little-endian (model's layout). */
const ipToInt = (ip: string) =>
  String(
    ip
      .split(".")
      .map(Number)
      .reduce((acc, b, i) => acc + b * 2 ** (8 * i), 0),
  );
const intToIp = (n: bigint) => [0, 1, 2, 3].map((i) => Number((n >> BigInt(8 * i)) & 0xffn)).join(".");

export interface WmiElement {
  StoreFilePath: string;
  ObjectId: string;
  Type: number;
  String?: string;
  Boolean?: boolean;
  Integer?: string;
  Id?: string;
  Ids?: string[];
  Integers?: string[];
  Device?: { Type: number; Value: string };
}

function toWmi(name: string, v: Value, o: BcdObjectState, path: string): WmiElement {
  const type = TYPE_ID[name];
  if (type === undefined) throw new Error(`the model has no element type id for '${name}'`);
  const base = { StoreFilePath: path, ObjectId: o.id, Type: type };
  const f = formatOf(type);
  if (f === 6) return { ...base, Boolean: v === true };
  const xs = Array.isArray(v) ? v : [String(v)];
  if (f === 2) return { ...base, String: xs.join(" ") };
  if (f === 3) return { ...base, Id: xs[0]! };
  if (f === 4) return { ...base, Ids: [...xs] };
  if (f === 1) return { ...base, Device: { Type: 0, Value: xs.join(" ") } };
  const num = (x: string) => (/^0x[0-9a-f]+$/i.test(x) || /^\d+$/.test(x) ? BigInt(x).toString() : undefined);
  if (f === 7) {
    const ns = xs.map(num);
    if (ns.some((n) => n === undefined)) throw new Error(`the model cannot type ${name}=${xs.join(" ")}`);
    return { ...base, Integers: ns as string[] };
  }
  // integer
  const x = xs[0] ?? "";
  if (name === "hostip") return { ...base, Integer: ipToInt(x) };
  const e = ENUMS[name];
  if (e) {
    const i = e.findIndex((n) => n.toLowerCase() === x.toLowerCase());
    if (i < 0) throw new Error(`the model cannot type ${name}=${x}`);
    return { ...base, Integer: String(i) };
  }
  const n = num(x);
  if (n === undefined) throw new Error(`the model cannot type ${name}=${x}`);
  return { ...base, Integer: n };
}

function fromWmiInteger(name: string, raw: unknown): string[] | undefined {
  let n: bigint;
  try {
    n = BigInt(String(raw));
  } catch {
    return undefined;
  }
  if (n < 0n || n >= 2n ** 64n) return undefined;
  if (name === "hostip") return [intToIp(n)];
  const e = ENUMS[name];
  if (e) return e[Number(n)] === undefined ? undefined : [e[Number(n)]!];
  return [n.toString()];
}

export interface WmiAnswer {
  value?: Record<string, unknown>;
  /** A CIM error (Invoke-CimMethod writes it as a CimException). */
  error?: string;
}

/**
 * One BCD WMI method call. `self` is the instance the method runs on (a BcdStore: {FilePath}, a BcdObject:
 * {StoreFilePath, Id}) or undefined for the static BcdStore.OpenStore. The system store is FilePath "".
 */
export function bcdWmi(
  live: BcdStoreState,
  ctx: BcdContext,
  cls: string,
  method: string,
  self: Record<string, unknown> | undefined,
  args: Record<string, unknown>,
): WmiAnswer {
  const S = EN; // the model words its WMI errors (HRESULT texts) in English
  if (!ctx.elevated) return { error: S.accessDenied };
  const c = cls.toLowerCase();
  const m = method.toLowerCase();
  const openFile = (path: string): BcdStoreState | undefined => {
    if (path === "") return live;
    const text = ctx.files[path];
    return text === undefined ? undefined : parseStore(text);
  };
  const save = (path: string, st: BcdStoreState) => {
    if (path !== "") ctx.files[path] = serializeStore(st);
  };
  if (c === "bcdstore" && m === "openstore") {
    const file = String(args.File ?? "");
    if (!openFile(file)) return { error: S.notFound };
    return { value: { ReturnValue: true, Store: { FilePath: file } } };
  }
  const path = String((c === "bcdstore" ? self?.FilePath : self?.StoreFilePath) ?? "");
  const st = openFile(path);
  if (!st) return { error: S.notFound };
  if (c === "bcdstore" && m === "enumerateobjects") {
    // object types (learn.microsoft.com .../bcd/bcdobject, Type): the model has the Windows boot loader, 0x10200003
    const kind = Number(args.Type) === 0x10200003 ? "osloader" : undefined;
    if (!kind)
      return { error: `the model enumerates only boot loader objects (0x10200003), not 0x${Number(args.Type).toString(16)}` };
    const objs = st.objects.filter((o) => o.kind === kind).map((o) => ({ Id: o.id, StoreFilePath: path, Type: 0x10200003 }));
    return { value: { ReturnValue: true, Objects: objs } };
  }
  if (c === "bcdstore" && m === "openobject") {
    const id = String(args.Id ?? "").toLowerCase();
    const o = st.objects.find((x) => x.id === id);
    if (!o) return { error: S.invalidEntry };
    return { value: { ReturnValue: true, Object: { Id: o.id, StoreFilePath: path } } };
  }
  if (c !== "bcdobject") return { error: `the model has no BCD WMI method ${cls}.${method}` };
  const o = st.objects.find((x) => x.id === String(self?.Id ?? "").toLowerCase());
  if (!o) return { error: S.invalidEntry };
  if (m === "enumerateelements") {
    const names = Object.keys(o.elements).sort((a, b) => typeIdOf(a) - typeIdOf(b));
    return { value: { ReturnValue: true, Elements: names.map((n) => toWmi(n, o.elements[n]!, o, path)) } };
  }
  const type = Number(args.Type);
  const name = Number.isInteger(type) ? nameOfType(type, o.kind) : undefined;
  if (!name) return { error: S.paramIncorrect };
  if (path === "" && ctx.secureBoot && SECURE_BOOT_PROTECTED.has(name)) return { error: S.secureBoot };
  const f = formatOf(type);
  const done = () => {
    save(path, st);
    return { value: { ReturnValue: true } };
  };
  switch (m) {
    case "deleteelement":
      if (!(name in o.elements)) return { error: S.elementNotFound };
      delete o.elements[name];
      return done();
    case "setbooleanelement":
      if (f !== 6 || typeof args.Boolean !== "boolean") return { error: S.paramIncorrect };
      o.elements[name] = args.Boolean;
      return done();
    case "setstringelement":
      if (f !== 2 || typeof args.String !== "string") return { error: S.paramIncorrect };
      o.elements[name] = [args.String];
      return done();
    case "setintegerelement": {
      const v = f === 5 ? fromWmiInteger(name, args.Integer) : undefined;
      if (!v) return { error: S.paramIncorrect };
      o.elements[name] = v;
      return done();
    }
    case "setobjectelement":
      if (f !== 3 || typeof args.Id !== "string") return { error: S.paramIncorrect };
      o.elements[name] = [args.Id.toLowerCase()];
      return done();
    case "setintegerlistelement": {
      const ns = Array.isArray(args.Integers) ? args.Integers.map((x) => fromWmiInteger("", x)?.[0]) : undefined;
      if (f !== 7 || !ns || ns.some((n) => n === undefined)) return { error: S.paramIncorrect };
      o.elements[name] = ns.map((n) => `0x${BigInt(n!).toString(16)}`); // bcdedit shows these in hex
      return done();
    }
    case "setobjectlistelement": {
      const ids = Array.isArray(args.Ids) ? args.Ids.map((x) => String(x).toLowerCase()) : undefined;
      if (f !== 4 || !ids) return { error: S.paramIncorrect };
      o.elements[name] = ids;
      return done();
    }
    default:
      return { error: `the model has no BCD WMI method ${cls}.${method}` };
  }
}
