/**
 * Linux host firewall: detect firewalld, ufw, nftables, iptables in that order (research host-side.md D2)
 * and open inbound UDP <port> from the target's address only, through the front end in charge.
 *
 * Design decided by the nftables caveat (host-side.md D2): an accept in a private table is not final, a drop
 * anywhere is. So netdbg never adds a private `inet netdbg` table: with firewalld or ufw it goes through
 * them; with raw nftables it inserts its accept at the top of every input base chain that can drop (policy
 * drop or a drop/reject rule), commented `netdbg-udp-<port>`; iptables chains (legacy, or iptables-nft's
 * `ip filter INPUT`) get `iptables -I INPUT … -m comment --comment netdbg-udp-<port>`. No dropping chain
 * anywhere = no active firewall: nothing is changed. All rules are runtime-only (gone after a reboot or a
 * firewall reload), which is right for a debug session.
 *
 * Output layouts: test/fixtures/linux/{nft-iptables-rule-lifecycle,ufw-rule-lifecycle}.txt and
 * test/host/fixtures/nft-insert-and-iptables-nft.txt; firewall-cmd exit codes from firewall-cmd(1).
 */
import { isNetdbgError, netdbgError } from "../../core/error.js";
import { ipVersion } from "../../core/ip.js";
import type { CommandResult, CommandRunner } from "../../core/interfaces.js";
import { display } from "../exec.js";
import {
  commentedRules,
  droppingInputChains,
  isIptablesNftChain,
  type NftChain,
  type NftRule,
  parseNftRuleset,
  ruleMatchesAddress,
} from "./nft.js";
import { type FirewallAction, type FirewallPlan, type FirewallRequest, type FrontEnd, checkRequest, ruleName } from "./types.js";

export interface LinuxFirewallFacts {
  version: 4 | 6;
  firewalld: { installed: boolean; running: boolean; zone?: string; hasRule: boolean };
  ufw: { installed: boolean; active: boolean; hasRule: boolean };
  nft: { installed: boolean; dropping: NftChain[]; ours: NftRule[] };
  iptables: { installed: boolean; backend?: "nf_tables" | "legacy"; dropping: boolean; hasRule: boolean };
  /** Front ends that are installed but could not be read (not root): "ufw", "iptables", "nftables". */
  unreadable: string[];
}

/** Run, but a missing program is `undefined` instead of an error. */
async function tryRun(runner: CommandRunner, argv: readonly string[]): Promise<CommandResult | undefined> {
  try {
    return await runner.run(argv[0]!, argv.slice(1));
  } catch (e) {
    if (isNetdbgError(e) && e.code === "NETDBG-E018") return undefined;
    throw e;
  }
}

function ipFamily(address: string): 4 | 6 {
  return ipVersion(address) === 6 ? 6 : 4;
}

// ---- the exact commands, one builder per front end -------------------------------------------------------

export function richRule(req: FirewallRequest): string {
  const fam = ipFamily(req.address) === 6 ? "ipv6" : "ipv4";
  return `rule family="${fam}" source address="${req.address}" port port="${req.port}" protocol="udp" accept`;
}

export const firewalld = {
  state: () => ["firewall-cmd", "--state"],
  zoneOf: (iface: string) => ["firewall-cmd", `--get-zone-of-interface=${iface}`],
  defaultZone: () => ["firewall-cmd", "--get-default-zone"],
  query: (zone: string, req: FirewallRequest) => ["firewall-cmd", `--zone=${zone}`, `--query-rich-rule=${richRule(req)}`],
  add: (zone: string, req: FirewallRequest) => ["firewall-cmd", `--zone=${zone}`, `--add-rich-rule=${richRule(req)}`],
  remove: (zone: string, req: FirewallRequest) => ["firewall-cmd", `--zone=${zone}`, `--remove-rich-rule=${richRule(req)}`],
};

/** The rule ufw adds and deletes: UDP to `port` from the target's address only. */
const ufwRuleSpec = (req: FirewallRequest) => ["from", req.address, "to", "any", "port", String(req.port), "proto", "udp"];

export const ufw = {
  status: () => ["ufw", "status"],
  added: () => ["ufw", "show", "added"],
  allow: (req: FirewallRequest) => ["ufw", "allow", ...ufwRuleSpec(req), "comment", ruleName(req.port)],
  // ufw deletes by the rule's spec, so it must be exactly the spec that was allowed
  delete: (req: FirewallRequest) => ["ufw", "delete", "allow", ...ufwRuleSpec(req)],
};

const saddr = (req: FirewallRequest) => (ipFamily(req.address) === 6 ? "ip6" : "ip");

export const nft = {
  ruleset: () => ["nft", "-j", "list", "ruleset"],
  insert: (c: NftChain, req: FirewallRequest) => [
    "nft",
    "insert",
    "rule",
    c.family,
    c.table,
    c.name,
    saddr(req),
    "saddr",
    req.address,
    "udp",
    "dport",
    String(req.port),
    "accept",
    "comment",
    `"${ruleName(req.port)}"`,
  ],
  delete: (c: { family: string; table: string; chain: string }, handle: number | string) => [
    "nft",
    "delete",
    "rule",
    c.family,
    c.table,
    c.chain,
    "handle",
    String(handle),
  ],
};

export const iptables = {
  bin: (req: FirewallRequest) => (ipFamily(req.address) === 6 ? "ip6tables" : "iptables"),
  spec: (req: FirewallRequest) => [
    "INPUT",
    "-s",
    req.address,
    "-p",
    "udp",
    "--dport",
    String(req.port),
    "-m",
    "comment",
    "--comment",
    ruleName(req.port),
    "-j",
    "ACCEPT",
  ],
  version: (req: FirewallRequest) => [iptables.bin(req), "-V"],
  // -w: wait for the xtables lock instead of failing while another tool (docker, fail2ban…) holds it
  list: (req: FirewallRequest) => [iptables.bin(req), "-w", "-S", "INPUT"],
  check: (req: FirewallRequest) => [iptables.bin(req), "-w", "-C", ...iptables.spec(req)],
  insert: (req: FirewallRequest) => [iptables.bin(req), "-w", "-I", ...iptables.spec(req)],
  delete: (req: FirewallRequest) => [iptables.bin(req), "-w", "-D", ...iptables.spec(req)],
};

// ---- parsers ---------------------------------------------------------------------------------------------

/** `ufw status` first line (ufw-rule-lifecycle.txt): `Status: active` / `Status: inactive`. */
export function ufwActive(stdout: string): boolean {
  return /^Status: active\s*$/m.test(stdout);
}

/** `ufw show added` lists user rules as the commands that made them (ufw-rule-lifecycle.txt). */
export function ufwHasRule(showAdded: string, req: FirewallRequest): boolean {
  const want = `ufw allow from ${req.address} to any port ${req.port} proto udp`;
  return showAdded.split("\n").some((l) => l.trim() === want || l.trim().startsWith(`${want} comment`));
}

/** `iptables -S INPUT`: policy DROP or any DROP/REJECT rule (fixture nft-iptables-rule-lifecycle.txt). */
export function iptablesDropping(listing: string): boolean {
  return /^-P INPUT DROP\b/m.test(listing) || /^-A INPUT .*-j (DROP|REJECT)\b/m.test(listing);
}

export function iptablesBackend(versionOut: string): "nf_tables" | "legacy" | undefined {
  const m = /\((nf_tables|legacy)\)/.exec(versionOut);
  return m ? (m[1] as "nf_tables" | "legacy") : undefined;
}

// ---- probe (read-only) -----------------------------------------------------------------------------------

export async function probeLinuxFirewall(runner: CommandRunner, req: FirewallRequest): Promise<LinuxFirewallFacts> {
  checkRequest(req);
  const version = ipFamily(req.address);
  const facts: LinuxFirewallFacts = {
    version,
    firewalld: { installed: false, running: false, hasRule: false },
    ufw: { installed: false, active: false, hasRule: false },
    nft: { installed: false, dropping: [], ours: [] },
    iptables: { installed: false, dropping: false, hasRule: false },
    unreadable: [],
  };

  const fwState = await tryRun(runner, firewalld.state());
  if (fwState) {
    facts.firewalld.installed = true;
    // exit 0 + "running"; 252 = NOT_RUNNING (firewall-cmd(1))
    facts.firewalld.running = fwState.exitCode === 0 && /running/.test(fwState.stdout);
    if (facts.firewalld.running) {
      let zone: string | undefined;
      if (req.interface) {
        const z = await runner.run(firewalld.zoneOf(req.interface)[0]!, firewalld.zoneOf(req.interface).slice(1));
        if (z.exitCode === 0 && z.stdout.trim()) zone = z.stdout.trim();
      }
      if (!zone) {
        const d = await runner.run("firewall-cmd", firewalld.defaultZone().slice(1));
        zone = d.stdout.trim() || "public";
      }
      facts.firewalld.zone = zone;
      const q = await runner.run("firewall-cmd", firewalld.query(zone, req).slice(1));
      facts.firewalld.hasRule = q.exitCode === 0;
    }
  }

  // firewalld and ufw do not share a host: skip ufw's (slow, Python) probe when firewalld is in charge
  const us = facts.firewalld.running ? undefined : await tryRun(runner, ufw.status());
  if (us) {
    facts.ufw.installed = true;
    if (us.exitCode !== 0) facts.unreadable.push("ufw");
    facts.ufw.active = us.exitCode === 0 && ufwActive(us.stdout);
    const added = await runner.run("ufw", ufw.added().slice(1));
    facts.ufw.hasRule = added.exitCode === 0 && ufwHasRule(added.stdout, req);
  }

  const ipv = await tryRun(runner, iptables.version(req));
  if (ipv && ipv.exitCode === 0) {
    facts.iptables.installed = true;
    const backend = iptablesBackend(ipv.stdout);
    if (backend) facts.iptables.backend = backend;
    const list = await runner.run(iptables.bin(req), iptables.list(req).slice(1));
    if (list.exitCode !== 0) facts.unreadable.push(iptables.bin(req));
    facts.iptables.dropping = list.exitCode === 0 && iptablesDropping(list.stdout);
    const check = await runner.run(iptables.bin(req), iptables.check(req).slice(1));
    facts.iptables.hasRule = check.exitCode === 0;
  }

  const rs = await tryRun(runner, nft.ruleset());
  if (rs && rs.exitCode !== 0) facts.unreadable.push("nftables");
  if (rs && rs.exitCode === 0) {
    facts.nft.installed = true;
    const parsed = parseNftRuleset(rs.stdout);
    // chains iptables-nft manages are handled through iptables (so iptables -S keeps working)
    const viaIptables = facts.iptables.installed && facts.iptables.backend === "nf_tables";
    facts.nft.dropping = droppingInputChains(parsed, version).filter(
      (c) => !(viaIptables && isIptablesNftChain(c)) && !(facts.firewalld.running && c.table === "firewalld"),
    );
    facts.nft.ours = commentedRules(parsed, ruleName(req.port));
  }
  return facts;
}

// ---- plan (pure) -----------------------------------------------------------------------------------------

const argvExec = (argv: readonly string[], okCodes?: readonly number[]) =>
  okCodes ? { kind: "argv" as const, argv, okCodes } : { kind: "argv" as const, argv };

function action(
  id: string,
  title: string,
  run: readonly string[],
  undo: readonly string[] | undefined,
  satisfied: boolean,
  extra: Partial<FirewallAction> = {},
): FirewallAction {
  return {
    id,
    title,
    where: "host",
    command: display(run),
    ...(undo ? { undo: display(undo) } : {}),
    satisfied,
    exec: [argvExec(run)],
    undoExec: undo ? [argvExec(undo)] : [],
    ...extra,
  };
}

function chainLabel(c: { family: string; table: string; name?: string; chain?: string }): string {
  return `${c.family} ${c.table} ${c.name ?? c.chain}`;
}

/** Open: the rule(s) needed for inbound UDP req.port from req.address, through the front end in charge. */
export function planLinuxOpen(f: LinuxFirewallFacts, req: FirewallRequest): FirewallPlan {
  checkRequest(req);
  const name = ruleName(req.port);
  const what = `inbound UDP ${req.port} from ${req.address}`;
  if (f.firewalld.running) {
    const zone = f.firewalld.zone ?? "public";
    return {
      frontEnds: ["firewalld"],
      summary: `firewalld is running (zone ${zone}): a runtime rich rule allows ${what}.`,
      actions: [
        action(
          "firewall.firewalld",
          `firewalld: allow ${what} in zone ${zone}`,
          firewalld.add(zone, req),
          firewalld.remove(zone, req),
          f.firewalld.hasRule,
        ),
      ],
      warnings: [],
      blockers: [],
    };
  }
  if (f.ufw.active) {
    return {
      frontEnds: ["ufw"],
      summary: `ufw is active: a ufw rule commented ${name} allows ${what}.`,
      actions: [action("firewall.ufw", `ufw: allow ${what}`, ufw.allow(req), ufw.delete(req), f.ufw.hasRule)],
      warnings: [],
      blockers: [],
    };
  }
  const actions: FirewallAction[] = [];
  const frontEnds: FrontEnd[] = [];
  for (const c of f.nft.dropping) {
    const mine = commentedRules({ chains: [], rules: f.nft.ours }, name, c).filter((r) => ruleMatchesAddress(r, req.address));
    const handle = mine[0]?.handle;
    actions.push(
      action(
        `firewall.nft.${c.family}.${c.table}.${c.name}`,
        `nftables: allow ${what} at the top of ${chainLabel(c)}`,
        nft.insert(c, req),
        undefined,
        mine.length > 0,
        {
          undo:
            handle === undefined
              ? `${display(nft.delete({ family: c.family, table: c.table, chain: c.name }, "<handle>"))}  # <handle>: the rule commented ${name}`
              : display(nft.delete({ family: c.family, table: c.table, chain: c.name }, handle)),
          undoExec:
            handle === undefined ? [] : [argvExec(nft.delete({ family: c.family, table: c.table, chain: c.name }, handle))],
          undoData: {
            family: c.family,
            table: c.table,
            chain: c.name,
            comment: name,
            ...(handle === undefined ? {} : { handle }),
          },
        },
      ),
    );
  }
  if (actions.length) frontEnds.push("nftables");
  if (f.iptables.dropping) {
    frontEnds.push("iptables");
    actions.push(
      action(
        `firewall.${iptables.bin(req)}`,
        `${iptables.bin(req)}: allow ${what} at the top of INPUT`,
        iptables.insert(req),
        iptables.delete(req),
        f.iptables.hasRule,
      ),
    );
  }
  if (actions.length === 0 && f.unreadable.length) {
    return {
      frontEnds: [],
      summary: `Could not read ${f.unreadable.join(", ")} (reading the firewall needs root), so netdbg cannot tell whether ${what} is dropped.`,
      actions: [],
      warnings: [],
      blockers: [netdbgError("E120", { what: `reading ${f.unreadable.join(", ")}` })],
    };
  }
  if (actions.length === 0) {
    return {
      frontEnds: [],
      summary: `No active firewall drops ${what} (firewalld ${f.firewalld.installed ? "not running" : "not installed"}, ufw ${f.ufw.installed ? "inactive" : "not installed"}, no nftables/iptables input chain that drops): nothing to change.`,
      actions: [],
      warnings: [],
      blockers: [],
    };
  }
  return {
    frontEnds,
    summary: `${frontEnds.join(" and ")} ${frontEnds.length > 1 ? "drop" : "drops"} inbound traffic: netdbg puts an accept for ${what}, commented ${name}, ahead of the drops.`,
    actions,
    warnings: [],
    blockers: [],
  };
}

/** Close: remove every rule netdbg added for this port/address, whichever front end holds it. */
export function planLinuxClose(f: LinuxFirewallFacts, req: FirewallRequest): FirewallPlan {
  checkRequest(req);
  const actions: FirewallAction[] = [];
  const frontEnds: FrontEnd[] = [];
  if (f.firewalld.running && f.firewalld.hasRule) {
    frontEnds.push("firewalld");
    const zone = f.firewalld.zone ?? "public";
    actions.push(
      action(
        "firewall.firewalld.remove",
        `firewalld: remove the rich rule for ${req.address}`,
        firewalld.remove(zone, req),
        firewalld.add(zone, req),
        false,
      ),
    );
  }
  if (f.ufw.hasRule) {
    frontEnds.push("ufw");
    actions.push(
      action("firewall.ufw.remove", `ufw: delete the rule for ${req.address}`, ufw.delete(req), ufw.allow(req), false),
    );
  }
  const mine = f.nft.ours.filter((r) => ruleMatchesAddress(r, req.address));
  if (mine.length) frontEnds.push("nftables");
  for (const r of mine) {
    const c = { family: r.family, table: r.table, chain: r.chain };
    actions.push(
      action(
        `firewall.nft.remove.${r.family}.${r.table}.${r.chain}.${r.handle}`,
        `nftables: delete rule ${r.handle} from ${chainLabel(c)}`,
        nft.delete(c, r.handle),
        undefined,
        false,
        {
          undo: display(nft.insert({ family: r.family, table: r.table, name: r.chain }, req)),
          undoExec: [argvExec(nft.insert({ family: r.family, table: r.table, name: r.chain }, req))],
        },
      ),
    );
  }
  if (f.iptables.hasRule) {
    frontEnds.push("iptables");
    actions.push(
      action(
        `firewall.${iptables.bin(req)}.remove`,
        `${iptables.bin(req)}: delete the netdbg rule`,
        iptables.delete(req),
        iptables.insert(req),
        false,
      ),
    );
  }
  if (actions.length === 0 && f.unreadable.length) {
    return {
      frontEnds: [],
      summary: `Could not read ${f.unreadable.join(", ")} (reading the firewall needs root), so netdbg cannot tell whether its rule is present.`,
      actions: [],
      warnings: [],
      blockers: [netdbgError("E120", { what: `reading ${f.unreadable.join(", ")}` })],
    };
  }
  return {
    frontEnds,
    summary: actions.length
      ? `Removes the netdbg rule(s) ${ruleName(req.port)} for ${req.address} (${frontEnds.join(", ")}).`
      : `No netdbg rule for inbound UDP ${req.port} from ${req.address} is present: nothing to change.`,
    actions,
    warnings: [],
    blockers: [],
  };
}
