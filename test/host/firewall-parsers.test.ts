/**
 * Firewall output parsers against real captures, and plans from facts (pure). The real front ends run in
 * test/host/firewall-linux.test.ts.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandResult, CommandRunner, RunOptions } from "../../src/core/interfaces.js";
import { HostFirewallStep } from "../../src/host/firewall/index.js";
import {
  iptablesBackend,
  iptablesDropping,
  type LinuxFirewallFacts,
  planLinuxClose,
  planLinuxOpen,
  ufwActive,
  ufwHasRule,
} from "../../src/host/firewall/linux.js";
import {
  commentedRules,
  droppingInputChains,
  isIptablesNftChain,
  parseNftRuleset,
  ruleMatchesAddress,
} from "../../src/host/firewall/nft.js";
import { NetnsPair, requireTool } from "../fakes/netns.js";

const shared = (n: string) => readFileSync(new URL(`../fixtures/linux/${n}`, import.meta.url), "utf8");
const local = (n: string) => readFileSync(new URL(`./fixtures/${n}`, import.meta.url), "utf8");

/** Lines after a `+ <cmd>` trace line up to the next trace line. */
function traceOutput(text: string, cmd: string, nth = 0): string {
  const lines = text.split("\n");
  let seen = -1;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === `+ ${cmd}` && ++seen === nth) {
      const out: string[] = [];
      for (let j = i + 1; j < lines.length && !lines[j]!.startsWith("+ "); j++) out.push(lines[j]!);
      return out.join("\n");
    }
  }
  throw new Error(`'${cmd}' #${nth} not in fixture`);
}

describe("ufw (fixture ufw-rule-lifecycle.txt)", () => {
  const f = shared("ufw-rule-lifecycle.txt");
  it("Status: active / inactive", () => {
    expect(ufwActive(traceOutput(f, "ufw status", 0))).toBe(false);
    expect(ufwActive(traceOutput(f, "ufw status", 1))).toBe(true);
  });
  it("finds a rule for the address and port in 'ufw show added'", () => {
    const added = traceOutput(f, "ufw show added");
    expect(ufwHasRule(added, { address: "192.0.2.10", port: 31337 })).toBe(true);
    expect(ufwHasRule(added, { address: "192.0.2.11", port: 31337 })).toBe(false);
    expect(ufwHasRule(added, { address: "192.0.2.10", port: 31338 })).toBe(false);
  });
});

describe("iptables (fixture nft-iptables-rule-lifecycle.txt)", () => {
  const f = shared("nft-iptables-rule-lifecycle.txt");
  it("backend and drop detection", () => {
    expect(iptablesBackend(traceOutput(f, "iptables -V"))).toBe("nf_tables");
    expect(iptablesBackend("iptables v1.8.9 (legacy)")).toBe("legacy");
    expect(iptablesDropping(traceOutput(f, "iptables -S INPUT", 0))).toBe(false);
    expect(iptablesDropping(traceOutput(f, "iptables -S INPUT", 1))).toBe(true);
    expect(iptablesDropping("-P INPUT ACCEPT\n-A INPUT -p tcp -j REJECT --reject-with icmp-port-unreachable")).toBe(true);
  });
});

describe("nft JSON", () => {
  it("a private accept-only table drops nothing (fixture nft-iptables-rule-lifecycle.txt)", () => {
    const rs = parseNftRuleset(traceOutput(shared("nft-iptables-rule-lifecycle.txt"), "nft -j list table inet netdbg"));
    expect(rs.chains).toHaveLength(1);
    expect(droppingInputChains(rs, 4)).toEqual([]);
    const mine = commentedRules(rs, "netdbg kgdboe");
    expect(mine.map((r) => r.handle)).toEqual([2]);
    expect(ruleMatchesAddress(mine[0]!, "192.0.2.10")).toBe(true);
    expect(ruleMatchesAddress(mine[0]!, "192.0.2.1")).toBe(false);
  });
  it("dropping chains, iptables-nft chains and netdbg comments (capture nft-insert-and-iptables-nft.txt)", () => {
    const rs = parseNftRuleset(traceOutput(local("nft-insert-and-iptables-nft.txt"), "nft -j list ruleset"));
    const drops = droppingInputChains(rs, 4);
    expect(drops.map((c) => `${c.family} ${c.table} ${c.name}`)).toEqual(["inet filter input", "ip filter INPUT"]);
    expect(drops.map(isIptablesNftChain)).toEqual([false, true]);
    expect(droppingInputChains(rs, 6).map((c) => c.family)).toEqual(["inet"]);
    // the iptables-nft rule's comment is an xt match, not an nft comment: only the two nft rules carry it
    expect(commentedRules(rs, "netdbg-udp-50000").map((r) => r.handle)).toEqual([3, 2]);
  });
  it("an empty ruleset and garbage", () => {
    expect(parseNftRuleset('{"nftables": [{"metainfo": {"version": "1.0.6"}}]}')).toEqual({ chains: [], rules: [] });
    expect(() => parseNftRuleset("Error: syntax error")).toThrow(/could not be read/);
  });
});

const none = (): LinuxFirewallFacts => ({
  version: 4,
  firewalld: { installed: false, running: false, hasRule: false },
  ufw: { installed: false, active: false, hasRule: false },
  nft: { installed: true, dropping: [], ours: [] },
  iptables: { installed: true, backend: "nf_tables", dropping: false, hasRule: false },
  unreadable: [],
});

describe("Linux plans (pure)", () => {
  const req = { address: "192.0.2.10", port: 50000 };
  it("raw nftables plus legacy iptables: an accept in each dropping layer", () => {
    const f = none();
    f.nft.dropping = [{ family: "inet", table: "filter", name: "input", hook: "input", policy: "drop" }];
    f.iptables = { installed: true, backend: "legacy", dropping: true, hasRule: false };
    const p = planLinuxOpen(f, req);
    expect(p.frontEnds).toEqual(["nftables", "iptables"]);
    expect(p.actions.map((a) => a.command)).toEqual([
      `nft insert rule inet filter input ip saddr 192.0.2.10 udp dport 50000 accept comment '"netdbg-udp-50000"'`,
      "iptables -w -I INPUT -s 192.0.2.10 -p udp --dport 50000 -m comment --comment netdbg-udp-50000 -j ACCEPT",
    ]);
    expect(p.actions[0]!.undo).toContain("<handle>");
  });
  it("IPv6 targets use ip6 saddr and ip6tables", () => {
    const f = none();
    f.version = 6;
    f.nft.dropping = [{ family: "ip6", table: "t", name: "in", hook: "input", policy: "drop" }];
    f.iptables.dropping = true;
    const p = planLinuxOpen(f, { address: "2001:db8::10", port: 50000 });
    expect(p.actions[0]!.command).toContain("ip6 saddr 2001:db8::10");
    expect(p.actions[1]!.command.startsWith("ip6tables -w -I INPUT -s 2001:db8::10")).toBe(true);
  });
  it("an existing netdbg nft rule is satisfied and its undo names the real handle", () => {
    const f = none();
    const chain = { family: "inet", table: "filter", name: "input", hook: "input", policy: "drop" };
    f.nft.dropping = [chain];
    f.nft.ours = [
      {
        family: "inet",
        table: "filter",
        chain: "input",
        handle: 7,
        comment: "netdbg-udp-50000",
        expr: [{ match: { right: "192.0.2.10" } }],
      },
    ];
    const a = planLinuxOpen(f, req).actions[0]!;
    expect(a.satisfied).toBe(true);
    expect(a.undo).toBe("nft delete rule inet filter input handle 7");
    expect(planLinuxClose(f, req).actions.map((x) => x.command)).toEqual(["nft delete rule inet filter input handle 7"]);
  });
  it("firewalld wins over everything else; ufw over raw tables", () => {
    const f = none();
    f.iptables.dropping = true;
    f.ufw = { installed: true, active: true, hasRule: false };
    expect(planLinuxOpen(f, req).frontEnds).toEqual(["ufw"]);
    f.firewalld = { installed: true, running: true, zone: "trusted", hasRule: true };
    const p = planLinuxOpen(f, req);
    expect(p.frontEnds).toEqual(["firewalld"]);
    expect(p.actions[0]).toMatchObject({ satisfied: true });
    expect(p.actions[0]!.command).toContain("--zone=trusted");
  });
  it("nothing readable without root: a blocker, never 'no firewall'", () => {
    const f = none();
    f.unreadable = ["iptables", "nftables"];
    const p = planLinuxOpen(f, req);
    expect(p.blockers.map((b) => b.code)).toEqual(["NETDBG-E120"]);
    expect(p.summary).toMatch(/needs root/);
  });
});

/** Runs every command as the unprivileged user nobody inside a namespace (real tools, real EPERM). */
class UnprivilegedRunner implements CommandRunner {
  constructor(private readonly inner: CommandRunner) {}
  run(file: string, args: readonly string[], options?: RunOptions): Promise<CommandResult> {
    return this.inner.run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", file, ...args], options);
  }
}

describe("not root, for real", () => {
  const pair = new NetnsPair("fwp", 248);
  beforeAll(async () => {
    requireTool("iptables", "iptables");
    requireTool("setpriv", "util-linux");
    await pair.create();
    pair.inHost("iptables", "-P", "INPUT", "DROP");
  });
  afterAll(() => pair.destroy());
  it("the probe says it cannot read the firewall and open refuses with NETDBG-E120", async () => {
    const step = new HostFirewallStep(
      { address: pair.targetIp, port: 50800 },
      { platform: "linux", runner: new UnprivilegedRunner(pair.hostRunner()), elevated: false },
    );
    const check = await step.run("open", { check: true });
    expect(check.plan.summary).toMatch(/Could not read .*iptables/);
    await expect(step.run("open")).rejects.toMatchObject({ code: "NETDBG-E120" });
    expect(pair.inHost("iptables", "-S", "INPUT")).not.toMatch(/netdbg/);
  });
});
