/**
 * The Linux firewall step for real: nftables, iptables, ufw and firewalld, each inside its own pair of
 * network namespaces (host side + target side, veth, 10.231.24x.0/24). Every front end: a real UDP
 * datagram from the target namespace is dropped, --check changes nothing, open lets it through (and only
 * from the target's address), a second open changes nothing, close removes the rule and the datagram is
 * dropped again.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandRunner } from "../../src/core/interfaces.js";
import { HostFirewallStep } from "../../src/host/firewall/index.js";
import { ExecaCommandRunner } from "../../src/io/command-runner.js";
import { netdbgInNetns } from "../fakes/cli-in-netns.js";
import { NetnsPair, requireTool } from "../fakes/netns.js";

const WINDOW = { windowMs: 800 };

/**
 * Kill private D-Bus daemons that an interrupted earlier run of this file left behind: only when the test
 * process named in the directory is gone (a concurrent run keeps its bus), and only the daemon whose command
 * line names that directory.
 */
function reapStaleBuses(): void {
  for (const d of readdirSync("/tmp").filter((n) => /^nd-host-fwd-\d+$/.test(n))) {
    if (existsSync(`/proc/${d.slice("nd-host-fwd-".length)}`)) continue;
    try {
      const pid = Number(readFileSync(`/tmp/${d}/dbus.pid`, "utf8"));
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(`/tmp/${d}/bus.conf`)) process.kill(pid, "SIGTERM");
    } catch {
      // no pid file or no such process
    }
    rmSync(`/tmp/${d}`, { recursive: true, force: true });
  }
}

async function lifecycle(pair: NetnsPair, runner: CommandRunner, port: number, frontEnd: string): Promise<void> {
  const req = { address: pair.targetIp, port, interface: pair.hostIf };
  const step = new HostFirewallStep(req, { platform: "linux", runner, elevated: true });
  expect(await pair.probe(port, WINDOW), "the firewall drops the datagram before netdbg acts").toBe(false);

  const check = await step.run("open", { check: true });
  expect(check.report).toBeUndefined();
  expect(check.plan.frontEnds, check.plan.summary).toEqual([frontEnd]);
  expect(check.plan.actions.length).toBeGreaterThan(0);
  expect(check.plan.actions.every((a) => !a.satisfied && a.command.length > 0 && a.undo)).toBe(true);
  expect(await pair.probe(port, WINDOW), "--check changed nothing").toBe(false);

  const opened = await step.run("open");
  expect(opened.report?.changed).toBe(true);
  expect(await pair.probe(port, WINDOW), `open lets the target's datagram in: ${JSON.stringify(opened.report)}`).toBe(true);
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
  beforeAll(async () => {
    requireTool("nft", "nftables");
    requireTool("iptables", "iptables");
    await pair.create();
  });
  afterAll(() => pair.destroy());
  it("says so, changes nothing, and the datagram arrives", async () => {
    const runner = pair.hostRunner();
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
  beforeAll(async () => {
    requireTool("nft", "nftables");
    await pair.create();
  });
  afterAll(() => pair.destroy());
  it("open/close through the dropping chain; a private-table accept alone would not help", async () => {
    const runner = pair.hostRunner();
    // the dropping chain plus a private table that accepts the port: the drop still wins (accept is not final)
    pair.inHostWithInput(
      "table inet filter {\n chain input {\n  type filter hook input priority 0; policy drop;\n }\n}\n" +
        "table inet ndprivate {\n chain input {\n  type filter hook input priority -10; policy accept;\n  udp dport 50200 accept\n }\n}\n",
      "nft",
      "-f",
      "-",
    );
    await lifecycle(pair, runner, 50200, "nftables");
    // after open, the undo line names the real rule handle; running it by hand removes the rule
    const step = new HostFirewallStep({ address: pair.targetIp, port: 50201 }, { platform: "linux", runner, elevated: true });
    const out = await step.run("open");
    const undo = out.after?.actions[0]?.undo ?? "";
    expect(undo).toMatch(/^nft delete rule inet filter input handle \d+$/);
    pair.inHost(...undo.split(" "));
    expect((await step.status()).actions.map((a) => a.satisfied)).toEqual([false]);
    const after = JSON.parse(pair.inHost("nft", "-j", "list", "ruleset")) as { nftables: { rule?: { comment?: string } }[] };
    expect(after.nftables.filter((x) => x.rule?.comment === "netdbg-udp-50200")).toEqual([]);
  }, 90_000);
});

describe("iptables (INPUT policy DROP)", () => {
  const pair = new NetnsPair("fwi", 244);
  beforeAll(async () => {
    requireTool("iptables", "iptables");
    await pair.create();
    pair.inHost("iptables", "-P", "INPUT", "DROP");
  });
  afterAll(() => pair.destroy());
  it("open/close with iptables -I/-D, commented netdbg-udp-<port>", async () => {
    const runner = pair.hostRunner();
    const step = new HostFirewallStep({ address: pair.targetIp, port: 50300 }, { platform: "linux", runner, elevated: true });
    const plan = (await step.run("open", { check: true })).plan;
    expect(plan.actions[0]!.command).toBe(
      `iptables -w -I INPUT -s ${pair.targetIp} -p udp --dport 50300 -m comment --comment netdbg-udp-50300 -j ACCEPT`,
    );
    expect(plan.actions[0]!.undo).toBe(
      `iptables -w -D INPUT -s ${pair.targetIp} -p udp --dport 50300 -m comment --comment netdbg-udp-50300 -j ACCEPT`,
    );
    await lifecycle(pair, runner, 50300, "iptables");
    expect(pair.inHost("iptables", "-S", "INPUT")).not.toMatch(/netdbg/);
  }, 90_000);
  it("the CLI: --check prints the exact command and changes nothing; open, status, close", async () => {
    const base = ["host", "firewall"];
    const check = netdbgInNetns(pair, [...base, "open", pair.targetIp, "--port", "50301", "--check"]);
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toContain(
      `iptables -w -I INPUT -s ${pair.targetIp} -p udp --dport 50301 -m comment --comment netdbg-udp-50301 -j ACCEPT`,
    );
    expect(pair.inHost("iptables", "-S", "INPUT")).not.toMatch(/netdbg/);
    expect(netdbgInNetns(pair, [...base, "status", pair.targetIp, "--port", "50301"]).status).toBe(1);
    const open = netdbgInNetns(pair, ["--json", ...base, "open", pair.targetIp, "--port", "50301"]);
    expect(open.status).toBe(0);
    expect(JSON.parse(open.stdout).report.changed).toBe(true);
    expect(await pair.probe(50301, WINDOW)).toBe(true);
    expect(netdbgInNetns(pair, [...base, "status", pair.targetIp, "--port", "50301"]).status).toBe(0);
    expect(netdbgInNetns(pair, [...base, "close", pair.targetIp, "--port", "50301"]).status).toBe(0);
    expect(await pair.probe(50301, WINDOW)).toBe(false);
  }, 90_000);
});

describe("ufw (active, default deny incoming)", () => {
  const pair = new NetnsPair("fwu", 245);
  beforeAll(async () => {
    requireTool("ufw", "ufw");
    // the namespace sees a private copy of /etc/ufw: this ufw's state stays out of the machine's
    await pair.create({ ufw: "/etc/ufw" });
    pair.inHost("ufw", "--force", "enable");
    expect(pair.inHost("ufw", "status")).toMatch(/^Status: active/m);
  });
  afterAll(() => pair.destroy());
  it("open/close with ufw allow/delete, commented netdbg-udp-<port>", async () => {
    const runner = pair.hostRunner();
    await lifecycle(pair, runner, 50400, "ufw");
    expect(pair.inHost("ufw", "show", "added")).not.toMatch(/50400/);
  }, 90_000);
});

describe("firewalld (running on a private D-Bus, zone of the veth)", () => {
  const pair = new NetnsPair("fwf", 246);
  const dir = `/tmp/nd-host-fwd-${process.pid}`;
  const bus = `unix:path=${dir}/bus`;
  let dbusPid: number | undefined;
  let firewalld: ChildProcess | undefined;
  let runner: CommandRunner;

  beforeAll(async () => {
    requireTool("firewall-cmd", "firewalld");
    requireTool("dbus-daemon", "dbus-daemon");
    reapStaleBuses();
    await pair.create({ firewalld: "/etc/firewalld" });
    mkdirSync(dir, { recursive: true });
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
    writeFileSync(`${dir}/dbus.pid`, String(dbusPid));
    const [file, ...args] = pair.hostArgv("env", `DBUS_SYSTEM_BUS_ADDRESS=${bus}`, "firewalld", "--nofork", "--nopid");
    firewalld = spawn(file!, args, { stdio: "ignore" });
    runner = pair.hostRunner(new ExecaCommandRunner({ env: { DBUS_SYSTEM_BUS_ADDRESS: bus } }));
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
        // nsenter execs env, which execs firewalld: the pid is firewalld's
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
