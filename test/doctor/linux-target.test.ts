/**
 * `netdbg doctor <linux-target> --json` through the real CLI entry and the real SSH adapter, against the Linux
 * target model (src/peers/linux-target.ts) behind the in-process ssh2 server. The kernel config without KGDB is
 * Debian 12's real .config (test/fixtures/linux); kgdboe "loaded and answering" is an RSP exchange over real
 * loopback UDP with the kgdb stub (src/peers/rsp-stub.ts), which must be running again afterwards.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LinuxTargetModel, KGDB_CONFIG } from "../../src/peers/linux-target.js";
import { UdpKgdbStub } from "../../src/peers/rsp-stub.js";
import { type SshPeer, startSshPeer } from "../../src/peers/ssh-server.js";
import { runMain } from "../helpers/main.js";
import { tempDir } from "../helpers/sshd.js";

const DEBIAN_CONFIG = readFileSync(
  new URL("../fixtures/linux/debian12-6.1.0-56-amd64-config-excerpt.txt", import.meta.url),
  "utf8",
);

let srv: SshPeer;
let home: string;
/** A TCP relay in front of the SSH server that counts the connections that spoke (SSH sessions, not bare handshakes). */
let relay: Server;
let relayPort: number;
let sessions = 0;
let target: LinuxTargetModel;
const saved = { HOME: process.env.HOME, NETDBG_HOME: process.env.NETDBG_HOME, SSH_AUTH_SOCK: process.env.SSH_AUTH_SOCK };

function inventory(targetPort: number): void {
  writeFileSync(
    join(home, "netdbg", "targets.yaml"),
    [
      "version: 1",
      "targets:",
      "  - name: box",
      "    os: linux",
      "    address: 127.0.0.1",
      `    ssh: { user: root, port: ${relayPort}, identityFile: ${join(home, ".ssh", "id_ed25519")} }`,
      "    port: 50021",
      `    transport: { targetPort: ${targetPort}, hostIp: 127.0.0.1 }`,
      "",
    ].join("\n"),
  );
}

beforeAll(async () => {
  home = tempDir("doctor-linux");
  srv = await startSshPeer({
    exec: async ({ command }) => {
      const r = await target.exec(command);
      return { stdout: r.stdout, stderr: r.stderr, code: r.exitCode };
    },
  });
  relay = createServer((c) => {
    let spoke = false;
    const up = connect({ host: "127.0.0.1", port: srv.port });
    c.on("data", (d) => {
      if (!spoke) sessions++;
      spoke = true;
      up.write(d);
    });
    up.on("data", (d) => c.write(d));
    c.on("close", () => up.destroy());
    up.on("close", () => c.destroy());
    c.on("error", () => up.destroy());
    up.on("error", () => c.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, "127.0.0.1", () => r()));
  relayPort = (relay.address() as { port: number }).port;
  mkdirSync(join(home, ".ssh"), { mode: 0o700 });
  writeFileSync(join(home, ".ssh", "known_hosts"), `${srv.knownHostsLine().replace(`]:${srv.port} `, `]:${relayPort} `)}\n`);
  writeFileSync(join(home, ".ssh", "id_ed25519"), srv.clientKey.private, { mode: 0o600 });
  mkdirSync(join(home, "netdbg"), { recursive: true, mode: 0o700 });
  inventory(31337);
  process.env.HOME = home;
  process.env.NETDBG_HOME = join(home, "netdbg");
  delete process.env.SSH_AUTH_SOCK;
});

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await new Promise((r) => relay?.close(r));
  await srv?.stop();
});

interface Check {
  id: string;
  status: string;
  message: string;
  fix?: string;
  code?: string;
}

async function doctor(): Promise<{ code: number; checks: Check[] }> {
  const { code, stdout } = await runMain(["--json", "doctor", "box"]);
  const r = JSON.parse(stdout) as { reports: { checks: Check[] }[] };
  return { code, checks: r.reports[0]!.checks };
}

const byId = (checks: Check[], id: string) => checks.find((c) => c.id === id)!;

describe("doctor on a Linux target over SSH", () => {
  it("a kernel without KGDB (Debian 12's real config): linux.kconfig fails with E300 and the fix", async () => {
    target = new LinuxTargetModel({ release: "6.1.0-56-amd64", config: DEBIAN_CONFIG });
    sessions = 0;
    const r = await doctor();
    expect(r.code).toBe(1);
    // every target check (probe, datagram) shared ONE SSH session
    expect(sessions).toBe(1);
    const k = byId(r.checks, "linux.kconfig");
    expect(k).toMatchObject({ status: "fail", code: "NETDBG-E300" });
    expect(k.message).toContain("6.1.0-56-amd64 is built without KGDB");
    expect(k.fix).toContain("CONFIG_KGDB=y");
    expect(byId(r.checks, "linux.kgdboe")).toMatchObject({ status: "fail", code: "NETDBG-E710" });
    // read-only: nothing but probes ran on the target
    expect(target.log.some((c) => /^(insmod|rmmod|make|mkdir|rm |systemctl (enable|start))/.test(c))).toBe(false);
    expect(target.uploads).toEqual([]);
  });

  it("a KGDB kernel with kgdboe loaded and a stub answering: kconfig, lockdown, headers, NIC ok; RSP exchange detaches", async () => {
    const stub = new UdpKgdbStub();
    const stubPort = await stub.start();
    try {
      inventory(stubPort);
      target = new LinuxTargetModel({ loaded: { device_name: "eth0", udp_port: String(stubPort) } });
      const r = await doctor();
      expect(byId(r.checks, "linux.kconfig").status).toBe("ok");
      expect(byId(r.checks, "linux.lockdown").status).toBe("ok");
      expect(byId(r.checks, "linux.headers").status).toBe("ok");
      expect(byId(r.checks, "target.nic")).toMatchObject({ status: "ok", message: expect.stringContaining("'eth0'") });
      const k = byId(r.checks, "linux.kgdboe");
      expect(k).toMatchObject({ status: "ok" });
      expect(k.message).toContain(`udp:127.0.0.1:${stubPort}`);
      expect(k.message).toMatch(/pc 0x[0-9a-f]+/);
      // never left stopped: the stub runs on after the exchange
      expect(stub.stub.running).toBe(true);
    } finally {
      await stub.stop();
      inventory(31337);
    }
  });

  it("kgdboe loaded on another port than the inventory's: E713 names both", async () => {
    target = new LinuxTargetModel({ loaded: { device_name: "eth0", udp_port: "40000" } });
    const r = await doctor();
    expect(byId(r.checks, "linux.kgdboe")).toMatchObject({ status: "fail", code: "NETDBG-E713" });
    expect(byId(r.checks, "linux.kgdboe").message).toContain("40000");
  });

  it("lockdown on and no headers: linux.lockdown fails (E303), linux.headers fails with the install command (E304)", async () => {
    target = new LinuxTargetModel({ config: KGDB_CONFIG, lockdown: "none [integrity] confidentiality", headers: false });
    const r = await doctor();
    expect(byId(r.checks, "linux.lockdown")).toMatchObject({ status: "fail", code: "NETDBG-E303" });
    expect(byId(r.checks, "linux.headers")).toMatchObject({ status: "fail", code: "NETDBG-E304" });
    expect(byId(r.checks, "linux.headers").fix).toContain("apt-get");
  });
});
