/**
 * host.firewall for real: a "target" network namespace running a REAL OpenSSH sshd (on its own address), a "host"
 * namespace where netdbg doctor runs (the CLI from source, entered with nsenter) and where nftables drops UDP to the
 * target's port. Doctor sends a datagram FROM the target over SSH while it listens on the port: with the drop rule
 * the check fails with its fix; after the rule is removed it passes. Traffic stays inside the two namespaces.
 * Needs root (netns, useradd, sshd, nft): the machine and CI have it.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NetnsPair, requireTool } from "../fakes/netns.js";
import { createTestUser, makeKeyPair, removeTestUser, tempDir, testUserName } from "../helpers/sshd.js";

const ENTRY = fileURLToPath(new URL("../helpers/cli-entry.ts", import.meta.url));
const SSH_PORT = 2222;
const DEBUG_PORT = 50031;
const TABLE = "nd_doctor_drop";

const pair = new NetnsPair("dfw", 249);
const user = testUserName("dfw");
let dir: string;
let sshdPid = 0;

function waitFor(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (pred()) resolve();
      else if (Date.now() > end) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 50);
    };
    tick();
  });
}

beforeAll(async () => {
  requireTool("nft", "nftables");
  requireTool("nsenter", "util-linux");
  requireTool("/usr/sbin/sshd", "openssh-server");
  await pair.create();
  dir = tempDir("doctor-fw");
  createTestUser(user);
  const key = makeKeyPair(dir, "id_ed25519");
  // sshd inside the target namespace, listening on the target's own address
  const hostKey = join(dir, "host_ed25519");
  makeKeyPair(dir, "host_ed25519");
  const ak = join(dir, "authorized_keys");
  writeFileSync(ak, `${key.publicKey}\n`, { mode: 0o644 });
  const log = join(dir, "sshd.log");
  const cfg = [
    `Port ${SSH_PORT}`,
    `ListenAddress ${pair.targetIp}`,
    `HostKey ${hostKey}`,
    `PidFile ${join(dir, "sshd.pid")}`,
    `AuthorizedKeysFile ${ak}`,
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    "StrictModes no",
    "PermitRootLogin no",
    `AllowUsers ${user}`,
    "LogLevel VERBOSE",
  ];
  writeFileSync(join(dir, "sshd_config"), `${cfg.join("\n")}\n`);
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const [file, ...args] = pair.target.runner().argv("/usr/sbin/sshd", "-D", "-f", join(dir, "sshd_config"), "-E", log);
  const child = spawn(file!, args, { stdio: "ignore" });
  sshdPid = child.pid ?? 0;
  await waitFor(
    () => existsSync(log) && readFileSync(log, "utf8").includes("Server listening on"),
    "sshd in the target namespace",
  );

  // HOME (known_hosts) and NETDBG_HOME (inventory) for the doctor run
  mkdirSync(join(dir, "home", ".ssh"), { recursive: true, mode: 0o700 });
  const hostPub = readFileSync(`${hostKey}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
  writeFileSync(join(dir, "home", ".ssh", "known_hosts"), `[${pair.targetIp}]:${SSH_PORT} ${hostPub}\n`);
  mkdirSync(join(dir, "nd"), { mode: 0o700 });
  writeFileSync(
    join(dir, "nd", "targets.yaml"),
    [
      "version: 1",
      "targets:",
      "  - name: fw",
      "    os: linux",
      `    address: ${pair.targetIp}`,
      `    ssh: { user: ${user}, port: ${SSH_PORT}, identityFile: ${key.privateKeyPath} }`,
      `    port: ${DEBUG_PORT}`,
      "",
    ].join("\n"),
  );
}, 60_000);

afterAll(() => {
  if (sshdPid) {
    try {
      process.kill(sshdPid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  pair.destroy();
  removeTestUser(user);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Check {
  id: string;
  status: string;
  message: string;
  fix?: string;
  code?: string;
}

/** `netdbg --json doctor fw` run inside the host namespace. */
function doctor(): Promise<{ code: number | null; checks: Check[]; stderr: string }> {
  const [file, ...args] = pair.hostArgv(
    process.execPath,
    "--import",
    "tsx",
    ENTRY,
    "--json",
    "doctor",
    "fw",
    "--listen-seconds",
    "1",
  );
  return new Promise((resolve, reject) => {
    const child = spawn(file!, args, {
      env: { ...process.env, HOME: join(dir, "home"), NETDBG_HOME: join(dir, "nd"), NO_COLOR: "1", SSH_AUTH_SOCK: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("exit", (code) => {
      try {
        const r = JSON.parse(out) as { reports: { checks: Check[] }[] };
        resolve({ code, checks: r.reports[0]!.checks, stderr: err });
      } catch (e) {
        reject(new Error(`doctor printed no JSON (exit ${code}): ${out}\n${err}\n${String(e)}`));
      }
    });
  });
}

const byId = (checks: Check[], id: string) => checks.find((c) => c.id === id)!;

describe("host.firewall: a real datagram from the target, through a real nftables drop", () => {
  it("fails with its fix while the host namespace drops UDP to the port, and passes once the rule is gone", async () => {
    pair.inHostWithInput(
      `table inet ${TABLE} {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    udp dport ${DEBUG_PORT} drop\n  }\n}\n`,
      "nft",
      "-f",
      "-",
    );
    const closed = await doctor();
    expect(byId(closed.checks, "target.ssh").status).toBe("ok");
    const fw = byId(closed.checks, "host.firewall");
    expect(fw).toMatchObject({ status: "fail", code: "NETDBG-E700" });
    expect(fw.message).toContain(`to ${pair.hostIp} port ${DEBUG_PORT} did not arrive`);
    expect(fw.fix).toContain("netdbg host firewall open fw");
    expect(closed.code).toBe(1);

    pair.inHost("nft", "delete", "table", "inet", TABLE);
    const open = await doctor();
    const ok = byId(open.checks, "host.firewall");
    expect(ok.status).toBe("ok");
    expect(ok.message).toContain(`arrived from ${pair.targetIp}`);
    expect(ok.message).toMatch(/bash \/dev\/udp|python3/);
    // the same SSH session read the (real) kernel of this machine: the Linux checks ran, not skipped
    expect(byId(open.checks, "linux.kconfig").status).not.toBe("skip");
    expect(byId(open.checks, "route.hops").status).toBe("ok");
  }, 120_000);
});
