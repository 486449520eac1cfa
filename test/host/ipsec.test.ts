import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PowerShellRunner } from "../../src/core/interfaces.js";
import {
  ipsecError,
  parseXfrmPolicies,
  prefixContains,
  probeLinuxIpsec,
  probeWindowsIpsec,
  WIN_IPSEC_PS,
  windowsIpsecExemption,
  windowsIpsecFindings,
  xfrmFindings,
} from "../../src/host/ipsec.js";
import { NetnsPair, requireTool } from "../fakes/netns.js";
import { psSyntax } from "../fakes/ps-syntax.js";

const fixture = readFileSync(new URL("../fixtures/linux/ip-xfrm-policy.txt", import.meta.url), "utf8");
/** The `ip xfrm policy` output after both policies were added (fixture lines between the trace markers). */
function policyOutput(): string {
  const lines = fixture.split("\n");
  const start = lines.findIndex((l, i) => l === "+ ip xfrm policy" && i > 5);
  const end = lines.findIndex((l, i) => i > start && l.startsWith("+ "));
  return lines.slice(start + 1, end).join("\n");
}

describe("ip xfrm policy parser (fixture ip-xfrm-policy.txt)", () => {
  const policies = parseXfrmPolicies(policyOutput());
  it("reads both policies, the unprinted default level as required, 'level use' as use", () => {
    expect(policies).toHaveLength(2);
    expect(policies[0]).toMatchObject({ src: "192.0.2.2/32", dst: "192.0.2.10/32", dir: "out", priority: 0 });
    expect(policies[0]!.templates).toEqual([
      { src: "192.0.2.2", dst: "192.0.2.10", proto: "esp", mode: "transport", level: "use" },
    ]);
    expect(policies[1]).toMatchObject({ src: "192.0.2.10/32", dst: "192.0.2.2/32", proto: "udp", dport: 31337, dir: "in" });
    expect(policies[1]!.templates[0]!.level).toBe("required");
  });
  it("an empty listing is no policy", () => {
    expect(parseXfrmPolicies("")).toEqual([]);
  });
  it("finds the inbound ESP requirement for the target, not the optional outbound one", () => {
    const q = { target: "192.0.2.10", local: "192.0.2.2", port: 31337 };
    const f = xfrmFindings(policies, q);
    expect(f.map((x) => [x.direction, x.sameSelector])).toEqual([["in", true]]);
    expect(xfrmFindings(policies, { ...q, port: 50000 })).toEqual([]);
    expect(xfrmFindings(policies, { ...q, target: "192.0.2.11" })).toEqual([]);
  });
  it("prefix matching", () => {
    expect(prefixContains("10.0.0.0/8", "10.9.8.7")).toBe(true);
    expect(prefixContains("10.0.0.0/8", "11.0.0.1")).toBe(false);
    expect(prefixContains("0.0.0.0/0", "192.0.2.1")).toBe(true);
    expect(prefixContains("2001:db8::/32", "2001:db8::5")).toBe(true);
    expect(prefixContains("192.0.2.1-192.0.2.9", "192.0.2.5")).toBe(true);
    expect(prefixContains("LocalSubnet", "192.0.2.5")).toBeUndefined();
  });
});

describe("Linux IPsec for real (namespaces): dropped before, delivered after the exemption", () => {
  const pair = new NetnsPair("xf", 247);
  beforeAll(async () => {
    requireTool("ip", "iproute2");
    await pair.create();
  });
  afterAll(() => pair.destroy());
  const run = (cmd: string) => pair.inHost(...cmd.split(" "));

  for (const shape of ["broad (a /24 policy, priority 100)", "exact selector (priority 0)"] as const) {
    it(shape, async () => {
      pair.inHost("ip", "xfrm", "policy", "flush");
      const q = { target: pair.targetIp, local: pair.hostIp, port: 50700 };
      const tmpl = ["tmpl", "src", pair.targetIp, "dst", pair.hostIp, "proto", "esp", "mode", "transport"];
      if (shape.startsWith("broad")) {
        const net = pair.targetIp.replace(/\.\d+$/, ".0/24");
        pair.inHost(
          "ip",
          "xfrm",
          "policy",
          "add",
          "src",
          net,
          "dst",
          `${pair.hostIp}/32`,
          "dir",
          "in",
          "priority",
          "100",
          ...tmpl,
        );
      } else {
        pair.inHost(
          "ip",
          "xfrm",
          "policy",
          "add",
          "src",
          `${pair.targetIp}/32`,
          "dst",
          `${pair.hostIp}/32`,
          "proto",
          "udp",
          "dport",
          "50700",
          "dir",
          "in",
          ...tmpl,
        );
      }
      expect(await pair.probe(50700, { windowMs: 800 })).toBe(false);
      const report = await probeLinuxIpsec(pair.hostRunner(), q);
      expect(report.readable).toBe(true);
      expect(report.findings.map((f) => f.direction)).toEqual(["in"]);
      expect(ipsecError(report, q)?.code).toBe("NETDBG-E130");
      expect(report.exemption).toHaveLength(1);
      expect(report.exemption[0]).toMatch(shape.startsWith("broad") ? /^ip xfrm policy add / : /^ip xfrm policy update /);
      for (const cmd of report.exemption) run(cmd);
      expect(await pair.probe(50700, { windowMs: 800 })).toBe(true);
    }, 60_000);
  }
  it("no policy: nothing found, no exemption", async () => {
    pair.inHost("ip", "xfrm", "policy", "flush");
    const report = await probeLinuxIpsec(pair.hostRunner(), {
      target: pair.targetIp,
      local: pair.hostIp,
      port: 50700,
    });
    expect(report).toMatchObject({ readable: true, findings: [], exemption: [] });
  });
});

describe("Windows IPsec (Get-NetIPsecRule JSON through an injected runner)", () => {
  const q = { target: "192.0.2.10", local: "192.0.2.2", port: 50000 };
  it("a domain-isolation rule requiring inbound auth for Any is found; Request is not", () => {
    const f = windowsIpsecFindings(
      [
        {
          name: "Domain isolation",
          inboundSecurity: "Require",
          outboundSecurity: "Request",
          mode: "Transport",
          remoteAddress: "Any",
        },
        {
          name: "Opportunistic",
          inboundSecurity: "Request",
          outboundSecurity: "Request",
          mode: "Transport",
          remoteAddress: ["Any"],
        },
        {
          name: "Other subnet",
          inboundSecurity: "Require",
          outboundSecurity: "Require",
          mode: "Transport",
          remoteAddress: ["10.0.0.0/8"],
        },
        {
          name: "Keyword",
          inboundSecurity: "Require",
          outboundSecurity: "None",
          mode: "Transport",
          remoteAddress: ["LocalSubnet"],
        },
      ],
      q,
    );
    expect(f.map((x) => [x.rule, x.direction, x.certain])).toEqual([
      ["Domain isolation", "in", true],
      ["Keyword", "in", false],
    ]);
  });
  it("reports the exemption and the GPO note; the script and exemption parse as PowerShell", async () => {
    const ps: PowerShellRunner = {
      async invoke(script) {
        expect(script).toBe(WIN_IPSEC_PS);
        return {
          stdout: JSON.stringify({
            rules: {
              name: "Domain isolation",
              inboundSecurity: "Require",
              outboundSecurity: "Require",
              mode: "Transport",
              remoteAddress: "Any",
            },
            profiles: [{ name: "Domain", allowLocalIPsecRules: "False" }],
          }),
          stderr: "",
          exitCode: 0,
        };
      },
      async dispose() {},
    };
    const r = await probeWindowsIpsec(ps, q);
    expect(r.findings.map((f) => f.direction)).toEqual(["in", "out"]);
    expect(r.exemption).toEqual([
      "New-NetIPsecRule -DisplayName 'netdbg exempt 192.0.2.10' -RemoteAddress '192.0.2.10' -InboundSecurity None -OutboundSecurity None",
    ]);
    expect(r.notes[0]).toMatch(/Group Policy ignores local IPsec rules/);
    for (const src of [WIN_IPSEC_PS, windowsIpsecExemption(q)]) expect((await psSyntax(src)).errors).toBe(0);
  });
});
