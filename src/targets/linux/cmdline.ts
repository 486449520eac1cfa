/**
 * --apply-cmdline: put kernel command-line parameters (nokaslr, rodata=off) into the target's boot
 * configuration as one journaled action with an exact undo. Pure: the probe text in, the action out.
 * Never touches the running kernel; the change takes effect at the next boot.
 *
 * Why the parameters: the kernel's kgdb documentation (https://docs.kernel.org/process/debugging/kgdb.html,
 * "Kernel parameter: nokaslr" and "rodata"). Bootloaders (grub-mkconfig reads GRUB_CMDLINE_LINUX from
 * /etc/default/grub, info grub "Simple configuration"; grubby(8) --info/--args/--remove-args):
 * - GRUB with /etc/default/grub (Debian/Ubuntu update-grub, Arch grub-mkconfig, SUSE grub2-mkconfig): the file
 *   is backed up, GRUB_CMDLINE_LINUX gets the missing words, the config is regenerated; undo writes the backup
 *   back byte for byte (only if the file is still what netdbg wrote) and regenerates again.
 * - grubby (Fedora/RHEL/SUSE with grubby): `--update-kernel=ALL --args=…`, undone by `--remove-args=…`; when
 *   some kernels already carry a word, only the kernels that lack it are changed (so undo removes only ours).
 * - systemd-boot or anything else: a coded stop (E356) naming it; nothing is changed.
 */
import { createHash } from "node:crypto";
import { netdbgError } from "../../core/error.js";
import { shCommand, shQuote } from "../../core/quote.js";
import type { BootFacts, Execution, LinuxAction } from "./types.js";

export const GRUB_DEFAULTS = "/etc/default/grub";
export const CMDLINE_BACKUP_DIR = "/var/lib/netdbg/cmdline";
/** A kernel parameter netdbg may add: a bare word or word=value, nothing a shell or grub would interpret. */
const PARAM_RE = /^[a-z0-9_.-]+(=[a-z0-9_.,-]+)?$/;

export type Bootloader =
  | { kind: "grub"; path: string; regenerate: string }
  | { kind: "grubby" }
  | { kind: "unsupported"; name: string };

/** Read-only probe of the boot configuration; `path` is the grub defaults file (a temp copy in tests). */
export function bootProbe(path: string = GRUB_DEFAULTS): string {
  const p = shQuote(path);
  return [
    "for t in grubby update-grub grub-mkconfig grub2-mkconfig bootctl; do",
    'if command -v "$t" >/dev/null 2>&1; then echo "tool=$t"; fi; done;',
    "for f in /boot/grub/grub.cfg /boot/grub2/grub.cfg /etc/kernel/cmdline; do",
    'if [ -e "$f" ]; then echo "file=$f"; fi; done;',
    "for d in /boot/loader/entries /efi/loader/entries /boot/efi/loader/entries; do",
    'if [ -d "$d" ]; then echo sdboot=yes; fi; done;',
    "if command -v grubby >/dev/null 2>&1; then grubby --info=ALL 2>/dev/null | grep -E '^(kernel|args)=' | sed 's/^/grubby./'; fi;",
    `if [ -r ${p} ]; then printf 'grub_sha256=%s\\n' "$(sha256sum < ${p} | cut -d' ' -f1)"; echo '--- netdbg grub defaults'; cat ${p}; fi`,
  ].join(" ");
}

const unq = (s: string) => s.replace(/^"(.*)"$/, "$1");

export function parseBootProbe(text: string, path: string = GRUB_DEFAULTS): BootFacts {
  const marker = "--- netdbg grub defaults\n";
  const i = text.indexOf(marker);
  const head = i >= 0 ? text.slice(0, i) : text;
  const f: BootFacts = { tools: [], files: [], systemdBoot: false, grubby: [] };
  let sha = "";
  for (const line of head.split(/\r?\n/)) {
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const k = line.slice(0, eq);
    const v = line.slice(eq + 1);
    if (k === "tool") f.tools.push(v);
    else if (k === "file") f.files.push(v);
    else if (k === "sdboot") f.systemdBoot = true;
    else if (k === "grubby.kernel") f.grubby.push({ kernel: unq(v), args: [] });
    else if (k === "grubby.args" && f.grubby.length) f.grubby.at(-1)!.args = unq(v).split(/\s+/).filter(Boolean);
    else if (k === "grub_sha256") sha = v.trim();
  }
  if (i >= 0) f.grubDefaults = { path, text: text.slice(i + marker.length), sha256: sha };
  return f;
}

export interface CmdlineOptions {
  /** Where the backup and the staged file go (default /var/lib/netdbg/cmdline). */
  backupDir?: string;
  /** Regenerate command to use instead of the detected one (tests run against a temp grub defaults file). */
  regenerate?: string;
}

export function detectBootloader(b: BootFacts, o: CmdlineOptions = {}): Bootloader {
  if (b.tools.includes("grubby") && b.grubby.length) return { kind: "grubby" };
  if (b.grubDefaults) {
    const path = b.grubDefaults.path;
    if (o.regenerate) return { kind: "grub", path, regenerate: o.regenerate };
    if (b.tools.includes("update-grub")) return { kind: "grub", path, regenerate: "update-grub" };
    if (b.tools.includes("grub-mkconfig") && b.files.includes("/boot/grub/grub.cfg"))
      return { kind: "grub", path, regenerate: "grub-mkconfig -o /boot/grub/grub.cfg" };
    if (b.tools.includes("grub2-mkconfig") && b.files.includes("/boot/grub2/grub.cfg"))
      return { kind: "grub", path, regenerate: "grub2-mkconfig -o /boot/grub2/grub.cfg" };
  }
  if (b.systemdBoot || b.tools.includes("bootctl") || b.files.includes("/etc/kernel/cmdline"))
    return { kind: "unsupported", name: "systemd-boot" };
  if (b.grubDefaults) return { kind: "unsupported", name: `GRUB without update-grub or grub-mkconfig (${b.grubDefaults.path})` };
  return { kind: "unsupported", name: "an unknown bootloader (no grubby, no /etc/default/grub)" };
}

/** The words of a GRUB_CMDLINE_* assignment's value, or undefined when it is not plainly quoted. */
function plainWords(raw: string): string[] | undefined {
  const v = raw.trim();
  let inner: string;
  if (/^"[^"$`\\]*"$/.test(v) || /^'[^']*'$/.test(v)) inner = v.slice(1, -1);
  else if (/^[^\s"'$`\\;&|<>()#]*$/.test(v)) inner = v;
  else return undefined;
  return inner.split(/\s+/).filter(Boolean);
}

/** A GRUB_CMDLINE_* line netdbg will not rewrite (it expands variables, escapes or runs commands). */
export class UneditableLine extends Error {
  constructor(
    readonly variable: string,
    readonly line: string,
  ) {
    super(`${variable} is not a plain quoted list: ${line}`);
  }
}

const ASSIGN = (name: string) => new RegExp(`^[ \\t]*(?:export[ \\t]+)?${name}=(.*)$`);

/**
 * Edit a grub defaults file: add `params` missing from both GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT
 * to the last GRUB_CMDLINE_LINUX assignment (appended when there is none). Returns the words added and the text.
 */
export function editGrubDefaults(text: string, params: string[]): { added: string[]; text: string } {
  const lines = text.split("\n");
  const present = new Set<string>();
  let last = -1;
  for (const [name, track] of [
    ["GRUB_CMDLINE_LINUX", true],
    ["GRUB_CMDLINE_LINUX_DEFAULT", false],
  ] as const) {
    let idx = -1;
    lines.forEach((l, n) => {
      if (ASSIGN(name).test(l)) idx = n;
    });
    if (idx < 0) continue;
    const words = plainWords(
      ASSIGN(name)
        .exec(lines[idx]!)![1]!
        .replace(/[ \t]+#.*$/, ""),
    );
    if (!words) throw new UneditableLine(name, lines[idx]!.trim());
    for (const w of words) present.add(w);
    if (track) last = idx;
  }
  const added = params.filter((p) => !present.has(p));
  if (!added.length) return { added, text };
  if (last >= 0) {
    const m = ASSIGN("GRUB_CMDLINE_LINUX").exec(lines[last]!)!;
    const indent = /^[ \t]*(?:export[ \t]+)?/.exec(lines[last]!)![0];
    const words = plainWords(m[1]!.replace(/[ \t]+#.*$/, ""))!;
    lines[last] = `${indent}GRUB_CMDLINE_LINUX="${[...words, ...added].join(" ")}"`;
    return { added, text: lines.join("\n") };
  }
  const sep = text === "" || text.endsWith("\n") ? "" : "\n";
  return { added, text: `${text}${sep}GRUB_CMDLINE_LINUX="${added.join(" ")}"\n` };
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** One journaled action that puts `params` on the kernel command line of the next boot. */
export function planCmdline(boot: BootFacts, params: string[], o: CmdlineOptions = {}): LinuxAction | undefined {
  for (const p of params) if (!PARAM_RE.test(p)) throw new Error(`internal: unsafe kernel parameter '${p}'`);
  if (!params.length) return undefined;
  const bl = detectBootloader(boot, o);
  const dir = o.backupDir ?? CMDLINE_BACKUP_DIR;
  if (bl.kind === "unsupported") throw netdbgError("E356", { bootloader: bl.name, params });
  if (bl.kind === "grubby") return grubbyAction(boot, params);
  const g = boot.grubDefaults!;
  let edit: { added: string[]; text: string };
  try {
    edit = editGrubDefaults(g.text, params);
  } catch (e) {
    if (e instanceof UneditableLine) throw netdbgError("E357", { file: g.path, variable: e.variable, line: e.line });
    throw e;
  }
  const file = shQuote(g.path);
  const backup = `${dir}/${g.path.replace(/^\//, "").replaceAll("/", "-")}.orig`;
  const staged = `${dir}/${g.path.replace(/^\//, "").replaceAll("/", "-")}.new`;
  const b = shQuote(backup);
  const s = shQuote(staged);
  const newSum = sha256(edit.text);
  const sumOf = `"$(sha256sum < ${file} | cut -d' ' -f1)"`;
  const before = [
    `mkdir -p ${shQuote(dir)}`,
    `[ ${sumOf} = ${shQuote(g.sha256)} ]`,
    `{ [ -e ${b} ] || cp -p ${file} ${b}; }`,
  ].join(" && ");
  const after = [`[ ${sumOf} = ${shQuote(g.sha256)} ]`, `cat ${s} > ${file}`, `rm -f ${s}`, bl.regenerate].join(" && ");
  const undo = [
    `if [ -e ${b} ]; then`,
    `if [ ${sumOf} != ${newSum} ]; then echo ${shQuote(`${g.path} changed since netdbg edited it; its original is ${backup}`)} >&2; exit 1; fi;`,
    `cat ${b} > ${file} && rm -f ${b} && { rmdir ${shQuote(dir)} 2>/dev/null || true; } && ${bl.regenerate};`,
    "fi",
  ].join(" ");
  const exec: Execution = {
    kind: "upload",
    before,
    files: [{ remotePath: staged, content: edit.text, mode: 0o600 }],
    after,
  };
  const words = edit.added.length ? edit.added : params;
  return {
    id: "cmdline.apply",
    title: `Add ${words.join(" ")} to GRUB_CMDLINE_LINUX in ${g.path} and run ${bl.regenerate.split(" ")[0]} (takes effect at the next reboot)`,
    where: "target",
    command: [before, `sftp put ${staged}`, after].join("\n"),
    undo,
    undoData: { file: g.path, backup, sha256Before: g.sha256, sha256After: newSum, added: edit.added },
    satisfied: edit.added.length === 0,
    exec,
  };
}

function grubbyAction(boot: BootFacts, params: string[]): LinuxAction {
  const all = boot.grubby.map((k) => k.kernel);
  // kernel target ("ALL" or one kernel path) → the words it lacks
  const groups = new Map<string, string[]>();
  for (const p of params) {
    const lacking = boot.grubby.filter((k) => !k.args.includes(p)).map((k) => k.kernel);
    if (!lacking.length) continue;
    for (const k of lacking.length === all.length ? ["ALL"] : lacking) groups.set(k, [...(groups.get(k) ?? []), p]);
  }
  const added = [...new Set([...groups.values()].flat())];
  const cmd = (flag: "--args" | "--remove-args") =>
    [...groups].map(([k, ws]) => shCommand(["grubby", `--update-kernel=${k}`, `${flag}=${ws.join(" ")}`]));
  const apply = cmd("--args").join(" && ");
  const undo = cmd("--remove-args").reverse().join(" && ");
  const words = added.length ? added : params;
  return {
    id: "cmdline.apply",
    title: `Add ${words.join(" ")} to the kernel command line with grubby (takes effect at the next reboot)`,
    where: "target",
    command: apply || shCommand(["grubby", "--update-kernel=ALL", `--args=${params.join(" ")}`]),
    ...(undo ? { undo } : {}),
    undoData: { bootloader: "grubby", groups: Object.fromEntries(groups) },
    satisfied: groups.size === 0,
    exec: { kind: "sh", script: apply || "true" },
  };
}
