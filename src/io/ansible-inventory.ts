/**
 * `--ansible-inventory <file|->`: netdbg's targets read from an Ansible inventory. The JSON of
 * `ansible-inventory --list` is read as it is (a file or standard input); an INI or YAML inventory file is
 * turned into that JSON by running `ansible-inventory -i FILE --list` (ansible-core), so group_vars,
 * host_vars, patterns and plugins mean what they mean to Ansible.
 *
 * The inventory stays Ansible's: netdbg never writes it. What netdbg itself decides for a target (a port it
 * allocated, an address it learned) is kept in netdbg's state directory, per target name
 * (`ansible-overlay.yaml`), and laid over the mapped targets on every load — the same keys, ports and
 * journals as with netdbg's own inventory.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { z } from "zod";
import { type AnsibleMapping, mapAnsibleInventory, parsePortRange } from "../core/ansible-inventory.js";
import { netdbgError } from "../core/error.js";
import { type Inventory, inventorySchema, type PortRange, type Target } from "../core/inventory.js";
import type { CommandRunner, InventoryPort } from "../core/interfaces.js";
import { writeFileAtomic } from "./atomic.js";
import { ExecaCommandRunner } from "./command-runner.js";
import { INVENTORY_LOCK_WAIT_MS, withNamedLock } from "./lock.js";

export interface AnsibleSourceOptions {
  /** `--ansible-inventory`: a path, or `-` for standard input. */
  source: string;
  debugHost: string;
  portRange?: string;
  /** netdbg's state directory (the overlay lives there). */
  stateDir: string;
  runner?: CommandRunner;
  readStdin?: () => Promise<string>;
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** True when `data` has the shape of `ansible-inventory --list` output (not an inventory source file). */
function isListOutput(data: unknown): boolean {
  if (data === null || typeof data !== "object" || Array.isArray(data)) return false;
  const o = data as Record<string, unknown>;
  if ("_meta" in o) return true;
  // without _meta (--export of an empty inventory): groups are objects whose hosts are arrays of names
  return Object.values(o).every(
    (g) =>
      g !== null &&
      typeof g === "object" &&
      !Array.isArray(g) &&
      !("hosts" in g && !Array.isArray((g as { hosts: unknown }).hosts)),
  );
}

/** The `ansible-inventory --list` JSON for `source`, reading or running what that takes. */
export async function loadAnsibleList(
  source: string,
  deps: { runner?: CommandRunner; readStdin?: () => Promise<string> } = {},
): Promise<unknown> {
  const label = source === "-" ? "on standard input" : source;
  let text: string;
  if (source === "-") text = await (deps.readStdin ?? readAllStdin)();
  else {
    try {
      text = await readFile(source, "utf8");
    } catch (e) {
      throw netdbgError("E013", { file: source, reason: (e as Error).message });
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (json !== undefined && isListOutput(json)) return json;
  if (source === "-") {
    throw netdbgError("E900", {
      source: label,
      problem: "standard input is not the JSON of 'ansible-inventory --list'",
      fix: "Pipe the output of 'ansible-inventory -i <inventory> --list' into netdbg, or pass the inventory file's path.",
    });
  }
  // an INI/YAML (or JSON-source) inventory: Ansible's own parser makes the list
  const runner = deps.runner ?? new ExecaCommandRunner();
  let r: Awaited<ReturnType<CommandRunner["run"]>>;
  try {
    r = await runner.run("ansible-inventory", ["-i", source, "--list"], { timeoutMs: 120_000 });
  } catch (e) {
    if ((e as { code?: string }).code === "NETDBG-E018") throw netdbgError("E902", { source }, { cause: e });
    throw e;
  }
  const warnings = r.stderr
    .split("\n")
    .filter((l) => /\[WARNING\]|ERROR/.test(l))
    .join(" ")
    .trim();
  if (r.exitCode !== 0) {
    throw netdbgError("E900", {
      source,
      problem: `'ansible-inventory -i ${source} --list' failed (exit ${r.exitCode}): ${(warnings || r.stderr).slice(-400).trim()}`,
    });
  }
  // ansible-inventory exits 0 with an empty list and a warning when it could not parse the file at all
  if (/Unable to parse|No inventory was parsed/.test(warnings)) {
    throw netdbgError("E900", { source, problem: `Ansible could not parse it (${warnings.slice(0, 400)})` });
  }
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw netdbgError("E900", { source, problem: "'ansible-inventory --list' printed something that is not JSON" });
  }
}

/** What netdbg keeps per target beside an Ansible inventory: the fields it decided, never the mapped ones. */
const overlaySchema = z
  .object({
    version: z.literal(1),
    targets: z.record(z.string(), z.record(z.string(), z.unknown())),
  })
  .strict();
type Overlay = z.infer<typeof overlaySchema>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** `over` laid on `base`, one level deep for nested objects (ssh, transport); `base` (Ansible's) wins. */
function underlay(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...over, ...base };
  for (const [k, v] of Object.entries(over)) {
    if (isPlainObject(v) && isPlainObject(base[k])) out[k] = { ...v, ...(base[k] as Record<string, unknown>) };
  }
  return out;
}

/** The fields of `next` that the mapped target does not already say (what netdbg decided itself). */
function diffFrom(mapped: Record<string, unknown>, next: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(next)) {
    if (k === "name") continue;
    const m = mapped[k];
    if (isPlainObject(v)) {
      const inner = diffFrom(isPlainObject(m) ? m : {}, v);
      if (Object.keys(inner).length) out[k] = inner;
    } else if (JSON.stringify(v) !== JSON.stringify(m)) out[k] = v;
  }
  return out;
}

/**
 * The inventory port over an Ansible inventory: `load`/`get`/`update` like InventoryStore, so every command
 * works unchanged. Adding, removing or renaming targets is refused (E903): that is the Ansible inventory's job.
 */
export class AnsibleInventoryStore implements InventoryPort {
  readonly file: string;
  private mapping: Promise<AnsibleMapping> | undefined;

  constructor(private readonly opts: AnsibleSourceOptions) {
    this.file = join(opts.stateDir, "ansible-overlay.yaml");
  }

  /** The mapped targets (cached for the process: the inventory is read once per command). */
  mapped(): Promise<AnsibleMapping> {
    this.mapping ??= (async () => {
      const list = await loadAnsibleList(this.opts.source, {
        ...(this.opts.runner ? { runner: this.opts.runner } : {}),
        ...(this.opts.readStdin ? { readStdin: this.opts.readStdin } : {}),
      });
      const portRange: PortRange | undefined =
        this.opts.portRange === undefined ? undefined : parsePortRange(this.opts.portRange, "--port-range");
      return mapAnsibleInventory(list, {
        debugHost: this.opts.debugHost,
        source: this.opts.source === "-" ? "on standard input" : this.opts.source,
        ...(portRange ? { portRange } : {}),
      });
    })();
    return this.mapping;
  }

  private async overlay(): Promise<Overlay> {
    let text: string;
    try {
      text = await readFile(this.file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, targets: {} };
      throw netdbgError("E013", { file: this.file, reason: (e as Error).message });
    }
    let data: unknown;
    try {
      data = parseYaml(text, { maxAliasCount: 100 });
    } catch (e) {
      throw netdbgError("E004", { file: this.file, where: "the top", problem: (e as Error).message.split("\n")[0] ?? "" });
    }
    const r = overlaySchema.safeParse(data);
    if (!r.success) throw netdbgError("E004", { file: this.file, where: "the top", problem: r.error.issues[0]?.message ?? "" });
    return r.data;
  }

  async load(): Promise<Inventory> {
    const { inventory } = await this.mapped();
    const over = await this.overlay();
    const targets = inventory.targets.map((t) => {
      const extra = over.targets[t.name];
      return extra ? (underlay(t as unknown as Record<string, unknown>, extra) as unknown as Target) : t;
    });
    const r = inventorySchema.safeParse({ ...inventory, targets });
    if (!r.success) {
      const issue = r.error.issues[0];
      throw netdbgError("E004", {
        file: this.file,
        where: `field '${issue?.path.join(".") ?? ""}'`,
        problem: `${issue?.message ?? "invalid"} (netdbg's own record beside the Ansible inventory; remove that entry to start afresh)`,
      });
    }
    return r.data;
  }

  async get(name: string): Promise<Target> {
    const inv = await this.load();
    const t = inv.targets.find((x) => x.name === name);
    if (t) return t;
    const m = await this.mapped();
    if (m.otherDebugHosts.includes(name) || m.unassigned.includes(name)) {
      throw netdbgError("E903", {
        what: `'${name}' is not a target of debug host '${this.opts.debugHost}' (its netdbg_debug_host is ${m.unassigned.includes(name) ? "not set" : "another host"})`,
      });
    }
    throw netdbgError("E005", { name });
  }

  /** Write netdbg's own fields of `inv` (those the Ansible inventory does not say) to the overlay. */
  async save(inv: Inventory): Promise<void> {
    const { inventory } = await this.mapped();
    const mappedByName = new Map(inventory.targets.map((t) => [t.name, t]));
    const names = inv.targets.map((t) => t.name);
    const added = names.filter((n) => !mappedByName.has(n));
    const removed = [...mappedByName.keys()].filter((n) => !names.includes(n));
    if (added.length) throw netdbgError("E903", { what: `netdbg cannot add ${added.map((n) => `'${n}'`).join(", ")}` });
    if (removed.length) throw netdbgError("E903", { what: `netdbg cannot remove ${removed.map((n) => `'${n}'`).join(", ")}` });
    const checked = inventorySchema.parse({ ...inv, portRange: inventory.portRange });
    const over: Overlay = { version: 1, targets: {} };
    for (const t of checked.targets) {
      const mapped = mappedByName.get(t.name) as unknown as Record<string, unknown>;
      const extra = diffFrom(mapped, t as unknown as Record<string, unknown>);
      if (Object.keys(extra).length) over.targets[t.name] = extra;
    }
    // a target that left this debug host (or the inventory) leaves its record behind: its port is free again here
    const header =
      "# netdbg's own record beside an Ansible inventory: what netdbg decided per target (ports, …). The targets come from Ansible.\n";
    await writeFileAtomic(this.file, header + stringifyYaml(over), 0o600);
  }

  /** Load, change, save netdbg's record — under its cross-process lock, as InventoryStore.update. */
  async update<T>(fn: (inv: Inventory) => T | Promise<T>): Promise<T> {
    return withNamedLock(
      `${this.file}.lock`,
      {
        waitMs: INVENTORY_LOCK_WAIT_MS,
        command: "update netdbg's record beside the Ansible inventory",
        what: `the record ${this.file}`,
      },
      async () => {
        const inv = await this.load();
        const result = await fn(inv);
        await this.save(inv);
        return result;
      },
    );
  }
}

/**
 * `--port-range` over netdbg's own inventory: new ports come from `range` in this run. The range is not written
 * into the inventory file (a file's own `portRange` stays as it was).
 */
export function withPortRange(store: InventoryPort, range: PortRange): InventoryPort {
  return {
    file: store.file,
    get: (name) => store.get(name),
    load: async () => ({ ...(await store.load()), portRange: range }),
    update: (fn) =>
      store.update(async (inv) => {
        const had = inv.portRange;
        inv.portRange = range;
        try {
          return await fn(inv);
        } finally {
          if (had === undefined) delete inv.portRange;
          else inv.portRange = had;
        }
      }),
  };
}
