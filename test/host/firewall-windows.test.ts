/**
 * Windows host firewall: plans from probe facts (injected PowerShellRunner), the whole step through the real
 * node-powershell adapter against the stand-in executable (a small model of the NetSecurity cmdlets), and
 * every rendered script / command syntax-checked with tree-sitter-powershell.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { CommandResult, PowerShellRunner } from "../../src/core/interfaces.js";
import { HostFirewallStep } from "../../src/host/firewall/index.js";
import {
  planWindowsOpen,
  WIN_CLOSE_PS,
  WIN_OPEN_PS,
  WIN_PROBE_PS,
  type WindowsFirewallFacts,
  windowsCommands,
} from "../../src/host/firewall/windows.js";
import { FIND_NET_ROUTE_PS } from "../../src/host/route.js";
import { NodePowerShellRunner } from "../../src/io/powershell.js";
import { psSyntax } from "../fakes/ps-syntax.js";

const FAKE = fileURLToPath(new URL("../fakes/fake-pwsh.mjs", import.meta.url));
const req = { address: "192.0.2.10", port: 50000 };
const profile = (name: string, over: Partial<WindowsFirewallFacts["profiles"][number]> = {}) => ({
  name,
  enabled: "True",
  defaultInboundAction: "Block",
  allowInboundRules: "True",
  allowLocalFirewallRules: "True",
  ...over,
});
const facts = (over: Partial<WindowsFirewallFacts> = {}): WindowsFirewallFacts => ({
  elevated: true,
  profiles: [profile("Domain"), profile("Private"), profile("Public")],
  rule: null,
  blockRules: [],
  ...over,
});
const goodRule = {
  enabled: "True",
  direction: "Inbound",
  action: "Allow",
  profile: "Any",
  protocol: "UDP",
  localPort: ["50000"],
  remoteAddress: ["192.0.2.10"],
};

describe("rendered PowerShell is valid (tree-sitter-powershell, 0 ERROR nodes)", () => {
  const cmds = windowsCommands({ address: "fe80::1'; Remove-Item C:\\ -Recurse; '", port: 50000 });
  for (const [name, src] of Object.entries({
    WIN_PROBE_PS,
    WIN_OPEN_PS,
    WIN_CLOSE_PS,
    FIND_NET_ROUTE_PS,
    "open command (hostile address)": cmds.open,
    "close command": cmds.close,
  })) {
    it(name, async () => {
      const syn = await psSyntax(src);
      expect(syn, syn.firstError).toMatchObject({ errors: 0, missing: 0, hasError: false });
    });
  }
  it("a hostile address stays one quoted literal in the displayed command", () => {
    expect(cmds.open).toContain("-RemoteAddress 'fe80::1''; Remove-Item C:\\ -Recurse; '''");
  });
});

describe("plan (pure, from probe facts)", () => {
  it("a missing rule gives one action: the exact New-NetFirewallRule line and its undo", () => {
    const p = planWindowsOpen(facts(), req);
    expect(p.frontEnds).toEqual(["windows"]);
    expect(p.actions[0]).toMatchObject({
      satisfied: false,
      command:
        "New-NetFirewallRule -Name 'netdbg-udp-50000' -DisplayName 'netdbg kernel debugging UDP 50000' -Group 'netdbg' -Direction Inbound -Protocol UDP -LocalPort 50000 -RemoteAddress '192.0.2.10' -Action Allow -Profile Any -Enabled True",
      undo: "Remove-NetFirewallRule -Name 'netdbg-udp-50000'",
    });
    expect(p.actions[0]!.exec[0]).toMatchObject({
      kind: "ps",
      script: WIN_OPEN_PS,
      params: { Name: "netdbg-udp-50000", Port: 50000, RemoteAddress: "192.0.2.10" },
    });
  });
  it("the matching rule is satisfied; a rule with another address is replaced", () => {
    expect(planWindowsOpen(facts({ rule: goodRule }), req).actions[0]!.satisfied).toBe(true);
    const other = planWindowsOpen(facts({ rule: { ...goodRule, remoteAddress: ["192.0.2.99"] } }), req).actions[0]!;
    expect(other.satisfied).toBe(false);
    expect(other.command.startsWith("Remove-NetFirewallRule -Name 'netdbg-udp-50000'; New-NetFirewallRule")).toBe(true);
  });
  it("firewall off in every profile: says so, no action", () => {
    const p = planWindowsOpen(
      facts({ profiles: [profile("Domain", { enabled: "False" }), profile("Public", { enabled: "False" })] }),
      req,
    );
    expect(p.actions).toEqual([]);
    expect(p.summary).toMatch(/off in every profile/);
  });
  it("GPO that ignores local rules and 'block all incoming' are blockers; Block rules are warnings", () => {
    const p = planWindowsOpen(
      facts({
        profiles: [profile("Domain", { allowLocalFirewallRules: "False" }), profile("Public", { allowInboundRules: "False" })],
        blockRules: ["Block UDP from anywhere"],
      }),
      req,
    );
    expect(p.blockers.map((b) => b.code)).toEqual(["NETDBG-E122", "NETDBG-E126"]);
    expect(p.blockers[0]!.message).toContain("Domain");
    expect(p.warnings[0]).toContain("Block UDP from anywhere");
  });
  it("a GPO on a profile no connected network uses is not a blocker", () => {
    const f = facts({
      profiles: [profile("Domain", { allowLocalFirewallRules: "False" }), profile("Private")],
      activeCategories: ["Private"],
    });
    expect(planWindowsOpen(f, req).blockers).toEqual([]);
    const onDomain = facts({
      profiles: [profile("Domain", { allowLocalFirewallRules: "False" })],
      activeCategories: ["DomainAuthenticated"],
    });
    expect(planWindowsOpen(onDomain, req).blockers.map((b) => b.code)).toEqual(["NETDBG-E122"]);
  });
});

/** An injected runner scripted per script (what the step sends is recorded). */
function scripted(probe: WindowsFirewallFacts): PowerShellRunner & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    async invoke(script): Promise<CommandResult> {
      sent.push(
        script === WIN_PROBE_PS ? "probe" : script === WIN_OPEN_PS ? "open" : script === WIN_CLOSE_PS ? "close" : "other",
      );
      return { stdout: JSON.stringify(script === WIN_PROBE_PS ? probe : { changed: true }), stderr: "", exitCode: 0 };
    },
    async dispose() {},
  };
}

describe("apply refuses before any change (injected runner)", () => {
  it("GPO blocks local rules: NETDBG-E122, only the probe ran", async () => {
    const ps = scripted(facts({ profiles: [profile("Domain", { allowLocalFirewallRules: "False" })] }));
    await expect(new HostFirewallStep(req, { platform: "win32", ps }).run("open")).rejects.toMatchObject({ code: "NETDBG-E122" });
    expect(ps.sent).toEqual(["probe"]);
  });
  it("not elevated: NETDBG-E120; --check still prints the plan", async () => {
    const ps = scripted(facts({ elevated: false }));
    const step = new HostFirewallStep(req, { platform: "win32", ps });
    expect((await step.run("open", { check: true })).plan.actions).toHaveLength(1);
    await expect(step.run("open")).rejects.toMatchObject({ code: "NETDBG-E120" });
    expect(ps.sent).toEqual(["probe", "probe"]);
  });
  it("a rule already in place: nothing is sent but the probe", async () => {
    const ps = scripted(facts({ rule: goodRule }));
    const out = await new HostFirewallStep(req, { platform: "win32", ps }).run("open");
    expect(out.report?.changed).toBe(false);
    expect(ps.sent).toEqual(["probe", "probe"]);
  });
});

describe("the whole step through node-powershell and the stand-in PowerShell", () => {
  const dir = mkdtempSync(join(tmpdir(), "nd-host-win-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("open (changed) → open (unchanged) → status → close → close (nothing)", async () => {
    const state = join(dir, "state.json");
    writeFileSync(state, "{}");
    const saved = { NODE_POWERSHELL: process.env.NODE_POWERSHELL, FAKE_PWSH_STATE: process.env.FAKE_PWSH_STATE };
    process.env.NODE_POWERSHELL = FAKE;
    process.env.FAKE_PWSH_STATE = state;
    const ps = new NodePowerShellRunner();
    try {
      const step = new HostFirewallStep(req, { platform: "win32", ps });
      const first = await step.run("open");
      expect(first.report?.actions.map((a) => a.outcome)).toEqual(["changed"]);
      expect(first.after?.actions.map((a) => a.satisfied)).toEqual([true]);
      expect((await step.run("open")).report?.changed).toBe(false);
      expect((await step.status()).actions.every((a) => a.satisfied)).toBe(true);
      const closed = await step.run("close");
      expect(closed.report?.changed).toBe(true);
      expect((await step.run("close")).plan.actions).toEqual([]);
    } finally {
      await ps.dispose();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
