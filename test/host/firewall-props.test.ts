/** Property tests: no target address or port can inject into a firewall command (nft/firewalld parse it). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ipVersion } from "../../src/core/ip.js";
import { HostFirewallStep } from "../../src/host/firewall/index.js";
import { type LinuxFirewallFacts, planLinuxOpen } from "../../src/host/firewall/linux.js";
import { planWindowsOpen } from "../../src/host/firewall/windows.js";
import { psSyntax } from "../fakes/ps-syntax.js";

const facts = (): LinuxFirewallFacts => ({
  version: 4,
  firewalld: { installed: false, running: false, hasRule: false },
  ufw: { installed: false, active: false, hasRule: false },
  nft: {
    installed: true,
    dropping: [{ family: "inet", table: "filter", name: "input", hook: "input", policy: "drop" }],
    ours: [],
  },
  iptables: { installed: true, backend: "legacy", dropping: true, hasRule: false },
  unreadable: [],
});

describe("firewall request validation", () => {
  it("any string that is not a plain IP address is refused with NETDBG-E104 before a command exists", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        let built = false;
        try {
          new HostFirewallStep({ address: s, port: 50000 }, { platform: "linux" });
          built = true;
        } catch (e) {
          expect((e as { code?: string }).code).toBe("NETDBG-E104");
        }
        expect(built).toBe(ipVersion(s) !== 0);
      }),
      { numRuns: 500 },
    );
    expect(() => planLinuxOpen(facts(), { address: "10.0.0.1 accept; flush ruleset", port: 50000 })).toThrow(/not valid/);
    expect(() => planLinuxOpen(facts(), { address: "10.0.0.1", port: 1.5 })).toThrow(/not valid/);
  });
  it("every valid IPv4/IPv6 address stays one argv element (Linux) and one literal (PowerShell, 0 ERROR nodes)", async () => {
    const addrs = fc.sample(fc.oneof(fc.ipV4(), fc.ipV6()), 40);
    for (const address of addrs) {
      const f = facts();
      if (ipVersion(address) === 6) {
        f.version = 6;
        f.nft.dropping = [{ family: "inet", table: "filter", name: "input", hook: "input", policy: "drop" }];
      }
      const p = planLinuxOpen(f, { address, port: 50000 });
      for (const a of p.actions) {
        for (const e of a.exec) {
          if (e.kind !== "argv") continue;
          expect(e.argv.filter((x) => x === address)).toHaveLength(1);
          expect(e.argv.every((x) => x === address || !x.includes(address))).toBe(true);
        }
      }
      const w = planWindowsOpen(
        {
          elevated: true,
          profiles: [
            {
              name: "Public",
              enabled: "True",
              defaultInboundAction: "Block",
              allowInboundRules: "True",
              allowLocalFirewallRules: "True",
            },
          ],
          rule: null,
          blockRules: [],
        },
        { address, port: 50000 },
      );
      const syn = await psSyntax(w.actions[0]!.command);
      expect(syn.errors).toBe(0);
      expect(w.actions[0]!.exec[0]).toMatchObject({ kind: "ps", params: { RemoteAddress: address } });
    }
  });
});
