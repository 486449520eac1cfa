import { AnsibleInventoryStore } from "../../io/ansible-inventory.js";
import { netdbgError } from "../../core/error.js";
import { generateKdnetKey } from "../../core/kdnet-key.js";
import { addressProblem, isValidAddress, type Target, TARGET_NAME, targetSchema } from "../../core/inventory.js";
import { redactSecret } from "../../core/redact.js";
import { ANY_UDP_PORT } from "../../core/udp-port.js";
import { allocatePort, claimPort, parsePort } from "../../host/port-alloc.js";
import { isUdpPortFree } from "../../io/port-probe.js";
import type { Context } from "../context.js";
import { table } from "../output.js";
import { createPrompter, requireFlags } from "../prompts.js";
import { secretStore } from "../secrets.js";

export interface TargetFlags {
  os?: string;
  address?: string;
  sshHost?: string;
  sshUser?: string;
  sshPort?: string;
  identityFile?: string;
  port?: string;
  nic?: string;
  hostIp?: string;
  targetPort?: string;
  group?: string[];
  note?: string;
  key?: boolean;
  reuseKey?: boolean;
}

/** A whole number flag (--ssh-port: a TCP port). */
function int(value: string, option: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw netdbgError("E003", {
      option,
      value,
      reason: `expected a whole number from ${min} to ${max}`,
      fix: `Pass ${option} <${min}-${max}>.`,
    });
  }
  return Number(value);
}

/** Apply flags onto a target (new or existing); the result is validated by the inventory schema. */
function applyFlags(t: Partial<Target>, f: TargetFlags): void {
  if (f.os !== undefined) {
    if (f.os !== "windows" && f.os !== "linux") {
      throw netdbgError("E003", {
        option: "--os",
        value: f.os,
        reason: "netdbg knows windows and linux targets",
        fix: "Pass --os windows or --os linux.",
      });
    }
    t.os = f.os;
  }
  if (f.address !== undefined) {
    const problem = addressProblem(f.address);
    if (problem) {
      throw netdbgError("E003", {
        option: "--address",
        value: f.address,
        reason: `not an IPv4 or IPv6 address or a DNS name: ${problem}`,
        fix: "Pass the target's IP address or host name.",
      });
    }
    t.address = f.address;
  }
  const ssh = { ...t.ssh };
  if (f.sshHost !== undefined) ssh.host = f.sshHost;
  if (f.sshUser !== undefined) ssh.user = f.sshUser;
  if (f.sshPort !== undefined) ssh.port = int(f.sshPort, "--ssh-port", 1, 65535);
  if (f.identityFile !== undefined) ssh.identityFile = f.identityFile;
  if (Object.keys(ssh).length) t.ssh = ssh;
  const tr = { ...t.transport };
  if (f.nic !== undefined) tr.nic = f.nic;
  if (f.hostIp !== undefined) tr.hostIp = f.hostIp;
  // a UDP port on the target: the one port parser, any UDP port
  if (f.targetPort !== undefined) tr.targetPort = parsePort(f.targetPort, "--target-port", ANY_UDP_PORT);
  if (Object.keys(tr).length) t.transport = tr;
  if (f.group !== undefined) t.groups = f.group;
  if (f.note !== undefined) t.note = f.note;
}

/** Turn a zod failure on one target into the coded input error naming the field. */
function validate(t: Partial<Target>): Target {
  const r = targetSchema.safeParse(t);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.join(".") || "target";
  throw netdbgError("E003", {
    option: field,
    value: String(t[String(issue.path[0]) as keyof Target] ?? ""),
    reason: issue.message,
    fix: `Correct ${field} and try again.`,
  });
}

/** A target as `--json` shows it: the inventory fields, plus its KDNET key (redacted unless --show-secrets). */
function describe(t: Target, keyShown: string | undefined): Target & { key?: string } {
  return { ...t, ...(keyShown !== undefined ? { key: keyShown } : {}) };
}

export async function targetsAddCommand(c: Context, name: string, f: TargetFlags): Promise<void> {
  if (!TARGET_NAME.test(name)) throw netdbgError("E007", { name });
  if (!f.os || !f.address) {
    const missing = [!f.os && "os", !f.address && "address"].filter(Boolean) as string[];
    const ask = createPrompter();
    if (!ask.interactive) requireFlags(missing);
    if (!f.os) f.os = await ask.select({ flag: "os", message: "Target OS", choices: [{ value: "windows" }, { value: "linux" }] });
    if (!f.address) {
      f.address = await ask.input({
        flag: "address",
        message: "Target address (IPv4, IPv6 or DNS name)",
        validate: (v) => isValidAddress(v) || `not an IPv4 or IPv6 address or a DNS name: ${addressProblem(v)}`,
      });
    }
  }
  const store = await secretStore(c);
  const saved = await c.inventory.update(async (inv) => {
    if (inv.targets.some((t) => t.name === name)) throw netdbgError("E006", { name });
    const t: Partial<Target> = { name };
    applyFlags(t, f);
    t.port =
      f.port !== undefined
        ? await claimPort(inv, parsePort(f.port), isUdpPortFree, name)
        : await allocatePort(inv, isUdpPortFree, name);
    const target = validate(t);
    inv.targets.push(target);
    return target;
  });
  let keyShown: string | undefined;
  if (saved.os === "windows" && f.key !== false) {
    // a key stored under a name the inventory did not hold is an orphan (a removed target's, kept with
    // --keep-key, or an interrupted run's): it is never taken over silently
    const orphan = await store.get(name);
    if (orphan !== undefined) c.secretsSeen.push(orphan);
    if (orphan !== undefined && f.reuseKey) {
      c.log.warn(`A KDNET key was stored for '${name}' already; kept as you asked (--reuse-key).`);
      keyShown = c.opts.showSecrets ? orphan : redactSecret(orphan);
    } else {
      const key = generateKdnetKey().text;
      await store.set(name, key);
      c.secretsSeen.push(key);
      keyShown = c.opts.showSecrets ? key : redactSecret(key);
      if (orphan !== undefined)
        c.log.warn(
          `A KDNET key was stored for '${name}' although no such target existed (left by a removed target or an interrupted run); it was replaced by a new key. Pass --reuse-key to keep such a key instead.`,
        );
    }
  }
  if (c.opts.json) c.json({ target: describe(saved, keyShown), keyStore: store.kind });
  else {
    c.out(`Added ${saved.os} target '${saved.name}' at ${saved.address}, debug port ${saved.port}.`);
    if (keyShown)
      c.out(
        `KDNET key ${keyShown} stored in ${store.kind}${c.opts.showSecrets ? "" : " (shown redacted; --show-secrets to see it)"}.`,
      );
  }
}

export async function targetsListCommand(c: Context): Promise<void> {
  const inv = await c.inventory.load();
  const ansible = c.inventory instanceof AnsibleInventoryStore ? await c.inventory.mapped() : undefined;
  const mapping = ansible && {
    source: c.opts.ansibleInventory,
    debugHost: c.opts.debugHost ?? null,
    portRange: ansible.portRange,
    portRangeFrom: ansible.portRangeFrom,
    otherDebugHosts: ansible.otherDebugHosts,
    unassigned: ansible.unassigned,
  };
  if (c.opts.json) return c.json({ targets: inv.targets, ...(mapping ? { ansible: mapping } : {}) });
  if (ansible) {
    c.out(
      `Ansible inventory ${c.opts.ansibleInventory === "-" ? "(standard input)" : c.opts.ansibleInventory}: ${inv.targets.length} target(s) for this debug host, ports from ${ansible.portRange.from}-${ansible.portRange.to} (${ansible.portRangeFrom}); ${ansible.otherDebugHosts.length} host(s) belong to other debug hosts, ${ansible.unassigned.length} name no netdbg_debug_host.`,
    );
    if (inv.targets.length === 0) return;
  }
  if (inv.targets.length === 0)
    return c.out("No targets yet. Add one with 'netdbg targets add <name> --os <windows|linux> --address <addr>'.");
  c.out(
    table(
      ["name", "os", "address", "port", "ssh", "groups"],
      inv.targets.map((t) => [
        t.name,
        t.os,
        t.address,
        t.port ?? "",
        t.ssh ? `${t.ssh.user ? `${t.ssh.user}@` : ""}${t.ssh.host ?? t.address}${t.ssh.port ? `:${t.ssh.port}` : ""}` : "",
        (t.groups ?? []).join(","),
      ]),
      c.color,
    ),
  );
}

export async function targetsShowCommand(c: Context, name: string): Promise<void> {
  const t = await c.inventory.get(name);
  const key = t.os === "windows" ? await (await secretStore(c)).get(name) : undefined;
  if (key) c.secretsSeen.push(key);
  const shown = key === undefined ? undefined : c.opts.showSecrets ? key : redactSecret(key);
  if (c.opts.json) return c.json({ target: describe(t, shown) });
  const { stringify } = await import("yaml");
  c.out(stringify(describe(t, shown)).trimEnd());
}

export async function targetsRemoveCommand(c: Context, name: string, f: { keepKey?: boolean }): Promise<void> {
  await c.inventory.update((inv) => {
    const i = inv.targets.findIndex((t) => t.name === name);
    if (i < 0) throw netdbgError("E005", { name });
    inv.targets.splice(i, 1);
  });
  const keyRemoved = f.keepKey ? false : await (await secretStore(c)).delete(name);
  if (c.opts.json) c.json({ removed: name, keyRemoved });
  else c.out(`Removed target '${name}'${keyRemoved ? " and its key" : ""}.`);
}

export async function targetsEditCommand(c: Context, name: string, f: TargetFlags): Promise<void> {
  if (c.inventory instanceof AnsibleInventoryStore)
    throw netdbgError("E903", { what: `'targets edit ${name}' would change what the Ansible inventory says` });
  const saved = await c.inventory.update(async (inv) => {
    const i = inv.targets.findIndex((t) => t.name === name);
    if (i < 0) throw netdbgError("E005", { name });
    const t: Partial<Target> = structuredClone(inv.targets[i]!);
    applyFlags(t, f);
    if (f.port !== undefined) t.port = await claimPort(inv, parsePort(f.port), isUdpPortFree, name);
    const target = validate(t);
    inv.targets[i] = target;
    return target;
  });
  if (c.opts.json) c.json({ target: saved });
  else c.out(`Updated target '${saved.name}'.`);
}
