/**
 * The Linux firewall step for real: nftables, iptables, ufw and firewalld, each inside its own pair of
 * network namespaces (host side + target side, veth, 10.231.24x.0/24). Every front end: a real UDP
 * datagram from the target namespace is dropped, --check changes nothing, open lets it through (and only
 * from the target's address), a second open changes nothing, close removes the rule and the datagram is
 * dropped again.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandRunner } from "../../src/core/ports.js";
import { HostFirewallStep } from "../../src/host/firewall/index.js";
import { ExecaCommandRunner, NetnsCommandRunner } from "../../src/io/command-runner.js";
import { netdbgInNetns } from "../fakes/cli-in-netns.js";
import { NetnsPair, requireTool } from "../fakes/netns.js";

const WINDOW = { windowMs: 800 };

async function lifecycle(pair: NetnsPair, runner: CommandRunner, port: number, frontEnd: string): Promise<void> {
  const req = { address: pair.targetIp, port, interface: pair.hostIf };
  const step = new HostFirewallStep(req, { platform: "linux", runner, elevated: true });
  expect(await pair.probe(port, WINDOW), "the firewall drops the datagram before netdbg acts").toBe(false);

  const check = await step.run("open", { check: true });
  expect(check.report).toBeUndefined();
  expect(check.plan.frontEnds).toEqual([frontEnd]);
  expect(check.plan.actions.length).toBeGreaterThan(0);
  expect(check.plan.actions.every((a) => !a.satisfied && a.command.length > 0 && a.undo)).toBe(true);
  expect(await pair.probe(port, WINDOW), "--check changed nothing").toBe(false);

  const opened = await step.run("open");
  expect(opened.report?.changed).toBe(true);
  expect(await pair.probe(port, WINDOW), "open lets the target's datagram in").toBe(true);
  expect(await pair.probe(port, { ...WINDOW, srcAddr: pair.otherIp }), "another source stays blocked").toBe(false);

  const again = await step.run("open");
  expect(again.report?.changed, "a second open changes nothing").toBe(false);
  expect(again.report?.actions.every((a) => a.outcome === "unchanged")).toBe(true);
  const status = await step.status();
  expect(status.actions.every((a) => a.satisfied)).toBe(true);

  const closed = await step.run("close");
  expect(closed.report?.changed).toBe(true);
  expect(await pair.probe(port, WINDOW), "close removed the rule").toBe(false);
  const closedAgain = await step.run("close");
  expect(closedAgain.plan.actions).toEqual([]);
  expect(closedAgain.report?.changed).toBe(false);
}

describe("no active firewall", () => {
  const pair = new NetnsPair("fw0", 240);
  beforeAll(() => {
    requireTool("nft", "nftables");
    requireTool("iptables", "iptables");
    pair.create();
  });
  afterAll(() => pair.destroy());
  it("says so, changes nothing, and the datagram arrives", async () => {
    const runner = new NetnsCommandRunner(pair.hostNs);
    const step = new HostFirewallStep({ address: pair.targetIp, port: 50100 }, { platform: "linux", runner, elevated: true });
    const out = await step.run("open");
    expect(out.plan.frontEnds).toEqual([]);
    expect(out.plan.summary).toMatch(/No active firewall/);
    expect(out.report).toEqual({ changed: false, actions: [] });
    expect(pair.inHost("nft", "list", "ruleset").trim()).toBe("");
    expect(await pair.probe(50100, WINDOW)).toBe(true);
  });
});

describe("nftables (inet filter input policy drop)", () => {
  const pair = new NetnsPair("fwn", 243);
  beforeAll(() => {
    requireTool("nft", "nftables");
    pair.create();
  });
  afterAll(() => pair.destroy());
  it("open/close through the dropping chain; a private-table accept alone would not help", async () => {
    const runner = new NetnsCommandRunner(pair.hostNs);
    // the dropping chain plus a private table that accepts the port: the drop still wins (accept is not final)
    execFileSync("ip", ["netns", "exec", pair.hostNs, "nft", "-f", "-"], {
      input:
        "table inet filter {\n chain input {\n  type filter hook input priority 0; policy drop;\n }\n}\n" +
        "table inet ndprivate {\n chain input {\n  type filter hook input priority -10; policy accept;\n  udp dport 50200 accept\n }\n}\n",
    });
    await lifecycle(pair, runner, 50200, "nftables");
    const after = JSON.parse(pair.inHost("nft", "-j", "list", "ruleset")) as { nftables: { rule?: { comment?: string } }[] };
    expect(after.nftables.filter((x) => x.rule?.comment === "netdbg-udp-50200")).toEqual([]);
  }, 90_000);
});

describe("iptables (INPUT policy DROP)", () => {
  const pair = new NetnsPair("fwi", 244);
  beforeAll(() => {
    requireTool("iptables", "iptables");
    pair.create();
    pair.inHost("iptables", "-P", "INPUT", "DROP");
  });
  afterAll(() => pair.destroy());
  it("open/close with iptables -I/-D, commented netdbg-udp-<port>", async () => {
    const runner = new NetnsCommandRunner(pair.hostNs);
    const step = new HostFirewallStep({ address: pair.targetIp, port: 50300 }, { platform: "linux", runner, elevated: true });
    const plan = (await step.run("open", { check: true })).plan;
    expect(plan.actions[0]!.command).toBe(
      `iptables -I INPUT -s ${pair.targetIp} -p udp --dport 50300 -m comment --comment netdbg-udp-50300 -j ACCEPT`,
    );
    expect(plan.actions[0]!.undo).toBe(
      `iptables -D INPUT -s ${pair.targetIp} -p udp --dport 50300 -m comment --comment netdbg-udp-50300 -j ACCEPT`,
    );
    await lifecycle(pair, runner, 50300, "iptables");
    expect(pair.inHost("iptables", "-S", "INPUT")).not.toMatch(/netdbg/);
  }, 90_000);
  it("the CLI: --check prints the exact command and changes nothing; open, status, close", async () => {
    const base = ["host", "firewall"];
    const check = netdbgInNetns(pair.hostNs, [...base, "open", pair.targetIp, "--port", "50301", "--check"]);
    expect(check.status).toBe(0);
    expect(check.stdout).toContain(
      `iptables -I INPUT -s ${pair.targetIp} -p udp --dport 50301 -m comment --comment netdbg-udp-50301 -j ACCEPT`,
    );
    expect(pair.inHost("iptables", "-S", "INPUT")).not.toMatch(/netdbg/);
    expect(netdbgInNetns(pair.hostNs, [...base, "status", pair.targetIp, "--port", "50301"]).status).toBe(1);
    const open = netdbgInNetns(pair.hostNs, ["--json", ...base, "open", pair.targetIp, "--port", "50301"]);
    expect(open.status).toBe(0);
    expect(JSON.parse(open.stdout).report.changed).toBe(true);
    expect(await pair.probe(50301, WINDOW)).toBe(true);
    expect(netdbgInNetns(pair.hostNs, [...base, "status", pair.targetIp, "--port", "50301"]).status).toBe(0);
    expect(netdbgInNetns(pair.hostNs, [...base, "close", pair.targetIp, "--port", "50301"]).status).toBe(0);
    expect(await pair.probe(50301, WINDOW)).toBe(false);
  }, 90_000);
});

describe("ufw (active, default deny incoming)", () => {
  const pair = new NetnsPair("fwu", 245);
  const etc = `/etc/netns/${pair.hostNs}`;
  beforeAll(() => {
    requireTool("ufw", "ufw");
    pair.create();
    // `ip netns exec` bind-mounts /etc/netns/<ns>/ufw over /etc/ufw: this ufw's state stays private
    mkdirSync(etc, { recursive: true });
    cpSync("/etc/ufw", `${etc}/ufw`, { recursive: true });
    pair.inHost("ufw", "--force", "enable");
  });
  afterAll(() => {
    pair.destroy();
    rmSync(etc, { recursive: true, force: true });
  });
  it("open/close with ufw allow/delete, commented netdbg-udp-<port>", async () => {
    const runner = new NetnsCommandRunner(pair.hostNs);
    await lifecycle(pair, runner, 50400, "ufw");
    expect(pair.inHost("ufw", "show", "added")).not.toMatch(/50400/);
  }, 90_000);
});

describe("firewalld (running on a private D-Bus, zone of the veth)", () => {
  const pair = new NetnsPair("fwf", 246);
  const etc = `/etc/netns/${pair.hostNs}`;
  const dir = `/tmp/nd-host-fwd-${process.pid}`;
  const bus = `unix:path=${dir}/bus`;
  let dbusPid: number | undefined;
  let firewalld: ChildProcess | undefined;
  let runner: CommandRunner;

  beforeAll(async () => {
    requireTool("firewall-cmd", "firewalld");
    requireTool("dbus-daemon", "dbus-daemon");
    pair.create();
    mkdirSync(dir, { recursive: true });
    mkdirSync(etc, { recursive: true });
    cpSync("/etc/firewalld", `${etc}/firewalld`, { recursive: true });
    execFileSync("sh", [
      "-c",
      `cat > ${dir}/bus.conf <<'EOF'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>${bus}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/></policy></busconfig>
EOF`,
    ]);
    dbusPid = Number(
      execFileSync("dbus-daemon", [`--config-file=${dir}/bus.conf`, "--fork", "--print-pid"], { encoding: "utf8" }).trim(),
    );
    firewalld = spawn(
      "ip",
      ["netns", "exec", pair.hostNs, "env", `DBUS_SYSTEM_BUS_ADDRESS=${bus}`, "firewalld", "--nofork", "--nopid"],
      {
        stdio: "ignore",
      },
    );
    runner = new NetnsCommandRunner(pair.hostNs, new ExecaCommandRunner({ env: { DBUS_SYSTEM_BUS_ADDRESS: bus } }));
    // readiness, not timing: wait until firewall-cmd answers "running"
    for (let i = 0; i < 200; i++) {
      const r = await runner.run("firewall-cmd", ["--state"]);
      if (r.exitCode === 0) return;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error("firewalld did not start in the namespace");
  });
  afterAll(() => {
    if (firewalld?.pid) {
      try {
        // the namespace's firewalld is the child of `ip netns exec`, which execs into env and then firewalld
        process.kill(firewalld.pid, "SIGTERM");
      } catch {
        // gone
      }
    }
    if (dbusPid) {
      try {
        process.kill(dbusPid, "SIGTERM");
      } catch {
        // gone
      }
    }
    pair.destroy();
    rmSync(etc, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });
  it("open/close with a runtime rich rule scoped to the target's address", async () => {
    const plan = (
      await new HostFirewallStep(
        { address: pair.targetIp, port: 50500, interface: pair.hostIf },
        { platform: "linux", runner, elevated: true },
      ).run("open", { check: true })
    ).plan;
    expect(plan.actions[0]!.command).toBe(
      `firewall-cmd --zone=public '--add-rich-rule=rule family="ipv4" source address="${pair.targetIp}" port port="50500" protocol="udp" accept'`,
    );
    await lifecycle(pair, runner, 50500, "firewalld");
  }, 180_000);
});
