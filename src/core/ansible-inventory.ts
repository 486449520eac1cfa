/**
 * Ansible inventories as netdbg targets (pure: no I/O). Input is the JSON that `ansible-inventory --list`
 * prints (documented in ansible-core's `ansible-inventory` CLI page: `_meta.hostvars` plus one object per
 * group with `hosts` and `children`). Output is netdbg's own inventory shape, for the targets whose
 * `netdbg_debug_host` names this debug host. The inventory stays Ansible's: netdbg never writes it.
 *
 * Mapping (the host's variables after Ansible resolved group_vars/host_vars):
 *   inventory_hostname → name            ansible_host → address (default: the inventory hostname)
 *   ansible_user / ansible_port / ansible_ssh_private_key_file → ssh user / port / identity file
 *   netdbg_os → os; else windows when ansible_connection is winrm or psrp, or ssh with ansible_shell_type
 *   powershell or cmd; else linux (Ansible's own default: ssh to a POSIX shell)
 *   netdbg_port, netdbg_nic, netdbg_host_ip, netdbg_kgdboe_source, netdbg_target_port → port, transport.nic /
 *   hostIp / kgdboeSource / targetPort
 *   netdbg_known_hosts_file, or `-o UserKnownHostsFile=F` in ansible_ssh_common_args/extra_args → ssh.knownHostsFile
 *   group membership (direct or through child groups; not `all`/`ungrouped`) → groups
 *   netdbg_port_range ("A-B") on the debug host itself, or on its targets → the port range for new ports
 */
import { netdbgError } from "./error.js";
import {
  DEBUG_PORT_MAX,
  DEBUG_PORT_MIN,
  DEFAULT_PORT_RANGE,
  type Inventory,
  inventorySchema,
  type PortRange,
  TARGET_NAME,
  type Target,
  targetSchema,
} from "./inventory.js";

/** The part of `ansible-inventory --list` netdbg reads. Anything else in it is ignored. */
export interface AnsibleListJson {
  _meta?: { hostvars?: Record<string, Record<string, unknown>> };
  [group: string]: unknown;
}

export interface AnsibleMapOptions {
  /** This debug host's inventory name: targets whose `netdbg_debug_host` equals it are selected. */
  debugHost: string;
  /** `--port-range A-B`: wins over `netdbg_port_range`. */
  portRange?: PortRange;
  /** Where the inventory came from, for error messages. */
  source: string;
}

export interface AnsibleMapping {
  inventory: Inventory;
  /** Hosts with `netdbg_debug_host` set to another debug host (not an error: another host's targets). */
  otherDebugHosts: string[];
  /** Hosts without `netdbg_debug_host` that are no debug host themselves: no debug host is named for them. */
  unassigned: string[];
  /** The range new ports come from, and where it was read. */
  portRange: PortRange;
  portRangeFrom: "--port-range" | "netdbg_port_range" | "default";
}

const WINDOWS_CONNECTIONS = new Set(["winrm", "psrp"]);
const WINDOWS_SHELLS = new Set(["powershell", "cmd"]);

/** `A-B` within 49152–65535, A ≤ B. `what` names the flag or variable for the error. */
export function parsePortRange(raw: unknown, what: string): PortRange {
  const text = String(raw ?? "").trim();
  const m = /^(\d{1,5})\s*-\s*(\d{1,5})$/.exec(text);
  const from = m ? Number(m[1]) : Number.NaN;
  const to = m ? Number(m[2]) : Number.NaN;
  if (!m || from < DEBUG_PORT_MIN || to > DEBUG_PORT_MAX || from > to) {
    throw netdbgError("E003", {
      option: what,
      value: text,
      reason: `expected FROM-TO with ${DEBUG_PORT_MIN} ≤ FROM ≤ TO ≤ ${DEBUG_PORT_MAX}`,
      fix: `Pass a range such as ${DEFAULT_PORT_RANGE.from}-${DEFAULT_PORT_RANGE.to} (the default).`,
    });
  }
  return { from, to };
}

function str(v: unknown): string | undefined {
  if (typeof v === "string" && v.trim() !== "") return v.trim();
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return undefined;
}

function int(v: unknown, host: string, variable: string, source: string): number | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  const n = typeof v === "number" ? v : /^\s*\d+\s*$/.test(String(v)) ? Number(v) : Number.NaN;
  if (!Number.isInteger(n)) throw netdbgError("E901", { source, host, variable, value: String(v), expected: "a whole number" });
  return n;
}

/** Group → hosts, with child groups folded in (a host of a child group is a host of the parent too). */
function groupMembers(list: AnsibleListJson): Map<string, Set<string>> {
  const direct = new Map<string, { hosts: string[]; children: string[] }>();
  for (const [name, value] of Object.entries(list)) {
    if (name === "_meta" || value === null || typeof value !== "object") continue;
    const g = value as { hosts?: unknown; children?: unknown };
    direct.set(name, {
      hosts: Array.isArray(g.hosts) ? g.hosts.filter((h): h is string => typeof h === "string") : [],
      children: Array.isArray(g.children) ? g.children.filter((c): c is string => typeof c === "string") : [],
    });
  }
  const memo = new Map<string, Set<string>>();
  const members = (name: string, path: Set<string>): Set<string> => {
    const done = memo.get(name);
    if (done) return done;
    const out = new Set<string>();
    const g = direct.get(name);
    if (!g || path.has(name)) return out; // Ansible refuses cycles; a cycle here adds nothing twice
    path.add(name);
    for (const h of g.hosts) out.add(h);
    for (const c of g.children) for (const h of members(c, path)) out.add(h);
    path.delete(name);
    memo.set(name, out);
    return out;
  };
  for (const name of direct.keys()) members(name, new Set());
  return memo;
}

/** Every host the listing names: hostvars' keys and every group's hosts. */
function allHosts(list: AnsibleListJson, groups: Map<string, Set<string>>): string[] {
  const names = new Set(Object.keys(list._meta?.hostvars ?? {}));
  for (const hosts of groups.values()) for (const h of hosts) names.add(h);
  return [...names].sort();
}

function osOf(vars: Record<string, unknown>, host: string, source: string): "windows" | "linux" {
  const explicit = str(vars.netdbg_os)?.toLowerCase();
  if (explicit !== undefined) {
    if (explicit === "windows" || explicit === "linux") return explicit;
    throw netdbgError("E901", { source, host, variable: "netdbg_os", value: explicit, expected: "windows or linux" });
  }
  const conn = str(vars.ansible_connection)?.toLowerCase() ?? "";
  const shell = str(vars.ansible_shell_type)?.toLowerCase() ?? "";
  if (WINDOWS_CONNECTIONS.has(conn)) return "windows";
  if ((conn === "ssh" || conn === "paramiko" || conn === "") && WINDOWS_SHELLS.has(shell)) return "windows";
  return "linux";
}

/** `-o UserKnownHostsFile=F` in ansible_ssh_common_args / ansible_ssh_extra_args (the first file named). */
function userKnownHostsFile(vars: Record<string, unknown>): string | undefined {
  for (const v of [vars.ansible_ssh_common_args, vars.ansible_ssh_extra_args]) {
    const m = typeof v === "string" ? /(?:^|\s)-o\s*UserKnownHostsFile[= ]\s*("[^"]+"|'[^']+'|\S+)/i.exec(v) : null;
    if (m?.[1]) return m[1].replace(/^["']|["']$/g, "").split(/\s+/)[0];
  }
  return undefined;
}

function mapHost(host: string, vars: Record<string, unknown>, groups: string[], source: string): Target {
  if (!TARGET_NAME.test(host)) {
    throw netdbgError("E901", {
      source,
      host,
      variable: "inventory_hostname",
      value: host,
      expected: "1–63 letters, digits, '.', '_' or '-' (netdbg keeps keys and journals under this name)",
    });
  }
  const ssh: NonNullable<Target["ssh"]> = {};
  const user = str(vars.ansible_user);
  if (user !== undefined) ssh.user = user;
  const sshPort = int(vars.ansible_port, host, "ansible_port", source);
  if (sshPort !== undefined) ssh.port = sshPort;
  const identity = str(vars.ansible_ssh_private_key_file);
  if (identity !== undefined) ssh.identityFile = identity;
  const knownHosts = str(vars.netdbg_known_hosts_file) ?? userKnownHostsFile(vars);
  if (knownHosts !== undefined) ssh.knownHostsFile = knownHosts;
  const transport: NonNullable<Target["transport"]> = {};
  const nic = str(vars.netdbg_nic);
  if (nic !== undefined) transport.nic = nic;
  const hostIp = str(vars.netdbg_host_ip);
  if (hostIp !== undefined) transport.hostIp = hostIp;
  const source_ = str(vars.netdbg_kgdboe_source);
  if (source_ !== undefined) transport.kgdboeSource = source_;
  const targetPort = int(vars.netdbg_target_port, host, "netdbg_target_port", source);
  if (targetPort !== undefined) transport.targetPort = targetPort;
  const port = int(vars.netdbg_port, host, "netdbg_port", source);
  const candidate: Target = {
    name: host,
    os: osOf(vars, host, source),
    address: str(vars.ansible_host) ?? host,
    ...(Object.keys(ssh).length ? { ssh } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(groups.length ? { groups } : {}),
    ...(Object.keys(transport).length ? { transport } : {}),
  };
  const checked = targetSchema.safeParse(candidate);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const field = issue?.path.join(".") ?? "";
    const variable =
      {
        address: "ansible_host",
        "ssh.user": "ansible_user",
        "ssh.port": "ansible_port",
        port: "netdbg_port",
        "transport.hostIp": "netdbg_host_ip",
      }[field] ?? (field.startsWith("groups") ? "group name" : field);
    throw netdbgError("E901", {
      source,
      host,
      variable,
      value: String(issue?.path.reduce<unknown>((o, k) => (o as Record<PropertyKey, unknown>)?.[k], candidate) ?? ""),
      expected: issue?.message ?? "a valid value",
    });
  }
  return checked.data;
}

/** Map `ansible-inventory --list` JSON to the targets of one debug host. Throws E900/E901 on a broken listing. */
export function mapAnsibleInventory(data: unknown, opts: AnsibleMapOptions): AnsibleMapping {
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw netdbgError("E900", { source: opts.source, problem: "it is not the JSON object 'ansible-inventory --list' prints" });
  }
  const list = data as AnsibleListJson;
  const hostvars = list._meta?.hostvars ?? {};
  if (typeof hostvars !== "object" || hostvars === null) {
    throw netdbgError("E900", { source: opts.source, problem: "'_meta.hostvars' is not an object" });
  }
  const groups = groupMembers(list);
  const groupsOf = (host: string) =>
    [...groups.entries()]
      .filter(([g, hosts]) => g !== "all" && g !== "ungrouped" && hosts.has(host))
      .map(([g]) => g)
      .sort();

  const targets: Target[] = [];
  const otherDebugHosts: string[] = [];
  const unassigned: string[] = [];
  const rangesSeen = new Map<string, string>(); // range text → first host that named it
  const hosts = allHosts(list, groups);
  const debugHosts = new Set(hosts.map((h) => str((hostvars[h] as Record<string, unknown> | undefined)?.netdbg_debug_host)));
  for (const host of hosts) {
    const vars = (hostvars[host] ?? {}) as Record<string, unknown>;
    const debugHost = str(vars.netdbg_debug_host);
    if (debugHost === undefined) {
      // the debug hosts themselves are no targets
      if (host !== opts.debugHost && !debugHosts.has(host)) unassigned.push(host);
      continue;
    }
    if (debugHost !== opts.debugHost) {
      otherDebugHosts.push(host);
      continue;
    }
    targets.push(mapHost(host, vars, groupsOf(host), opts.source));
    const r = str(vars.netdbg_port_range);
    if (r !== undefined && !rangesSeen.has(r)) rangesSeen.set(r, host);
  }

  let portRange: PortRange = { ...DEFAULT_PORT_RANGE };
  let portRangeFrom: AnsibleMapping["portRangeFrom"] = "default";
  const own = str((hostvars[opts.debugHost] as Record<string, unknown> | undefined)?.netdbg_port_range);
  if (opts.portRange) {
    portRange = opts.portRange;
    portRangeFrom = "--port-range";
  } else if (own !== undefined) {
    portRange = parsePortRange(own, `netdbg_port_range of ${opts.debugHost}`);
    portRangeFrom = "netdbg_port_range";
  } else if (rangesSeen.size > 1) {
    const [[a, ha], [b, hb]] = [...rangesSeen.entries()] as [[string, string], [string, string]];
    throw netdbgError("E901", {
      source: opts.source,
      host: hb,
      variable: "netdbg_port_range",
      value: b,
      expected: `the same range as the other targets of debug host '${opts.debugHost}' ('${a}' on ${ha}); set it once on the debug host`,
    });
  } else if (rangesSeen.size === 1) {
    const [[r, h]] = [...rangesSeen.entries()] as [[string, string]];
    portRange = parsePortRange(r, `netdbg_port_range of ${h}`);
    portRangeFrom = "netdbg_port_range";
  }

  const inventory: Inventory = { version: 1, portRange, targets };
  const checked = inventorySchema.safeParse(inventory);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const i = typeof issue?.path[1] === "number" ? issue.path[1] : -1;
    throw netdbgError("E901", {
      source: opts.source,
      host: targets[i]?.name ?? "(several)",
      variable: issue?.path.at(-1) === "port" ? "netdbg_port" : String(issue?.path.at(-1) ?? ""),
      value: String(targets[i]?.port ?? ""),
      expected: issue?.message ?? "a valid value",
    });
  }
  return { inventory: checked.data, otherDebugHosts, unassigned, portRange, portRangeFrom };
}
