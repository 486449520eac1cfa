/**
 * nftables JSON ruleset reading (`nft -j list ruleset`). Layout checked against the real capture
 * test/fixtures/linux/nft-iptables-rule-lifecycle.txt (`nft -j list table inet netdbg`: metainfo,
 * table, chain {family,table,name,handle,type,hook,prio,policy}, rule {family,table,chain,handle,comment,expr}).
 */
import { netdbgError } from "../../core/error.js";

export interface NftChain {
  family: string;
  table: string;
  name: string;
  handle?: number;
  hook?: string;
  prio?: number;
  policy?: string;
}

export interface NftRule {
  family: string;
  table: string;
  chain: string;
  handle: number;
  comment?: string;
  expr: unknown[];
}

export interface NftRuleset {
  chains: NftChain[];
  rules: NftRule[];
}

export function parseNftRuleset(stdout: string): NftRuleset {
  const text = stdout.trim();
  // an empty ruleset prints {"nftables": [{"metainfo": …}]}; very old nft prints nothing
  if (text === "") return { chains: [], rules: [] };
  let doc: { nftables?: Record<string, unknown>[] };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    throw netdbgError("E103", { command: "nft -j list ruleset", problem: "not JSON" });
  }
  if (!Array.isArray(doc.nftables)) throw netdbgError("E103", { command: "nft -j list ruleset", problem: "no 'nftables' array" });
  const chains: NftChain[] = [];
  const rules: NftRule[] = [];
  for (const item of doc.nftables) {
    if (item.chain) chains.push(item.chain as NftChain);
    else if (item.rule) {
      const r = item.rule as NftRule;
      rules.push({ ...r, expr: Array.isArray(r.expr) ? r.expr : [] });
    }
  }
  return { chains, rules };
}

const isVerdict = (e: unknown, v: string) => typeof e === "object" && e !== null && v in e;

/** Families whose input hook sees the target's IPv4 (4) or IPv6 (6) datagrams. */
export function familiesFor(version: 4 | 6): string[] {
  return version === 4 ? ["ip", "inet"] : ["ip6", "inet"];
}

/**
 * Base chains on the input hook that can drop the datagram: policy drop, or a drop/reject verdict in the
 * chain. A drop anywhere is final while an accept is not (nftables wiki "Configuring chains"), so netdbg's
 * accept must go INTO these chains, ahead of their drops — a private table cannot help.
 */
export function droppingInputChains(rs: NftRuleset, version: 4 | 6): NftChain[] {
  const fams = familiesFor(version);
  return rs.chains.filter((c) => {
    if (c.hook !== "input" || !fams.includes(c.family)) return false;
    if (c.policy === "drop") return true;
    return rs.rules.some(
      (r) =>
        r.family === c.family &&
        r.table === c.table &&
        r.chain === c.name &&
        r.expr.some((e) => isVerdict(e, "drop") || isVerdict(e, "reject")),
    );
  });
}

/** Rules carrying netdbg's comment in a chain (or anywhere when chain is undefined). */
export function commentedRules(rs: NftRuleset, comment: string, chain?: NftChain): NftRule[] {
  return rs.rules.filter(
    (r) => r.comment === comment && (!chain || (r.family === chain.family && r.table === chain.table && r.chain === chain.name)),
  );
}

/** Does a rule's expression name this source address (exact JSON value)? */
export function ruleMatchesAddress(rule: NftRule, address: string): boolean {
  return JSON.stringify(rule.expr).includes(JSON.stringify(address));
}

/** iptables-nft keeps its chains in tables named like iptables' own (ip/ip6 filter INPUT). */
export function isIptablesNftChain(c: NftChain): boolean {
  return (c.family === "ip" || c.family === "ip6") && c.table === "filter" && c.name === "INPUT";
}
