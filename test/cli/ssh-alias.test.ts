/**
 * An ssh alias given as a target's address works the way ssh would: its ssh_config HostName is where the
 * debugger, the host route and the firewall step go, not a DNS lookup of the alias (which fails).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SystemNetProbe } from "../../src/io/net-probe.js";
import { UdpKgdbStub } from "../../src/peers/rsp-stub.js";
import { runCliSource as runCli, stateDirWith } from "../helpers/cli.js";

let dir: string;
let config: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ssh-alias-"));
  config = join(dir, "ssh_config");
  writeFileSync(config, "Host labbox\n  HostName 127.0.0.1\n  User kd\n\nHost elsewhere\n  HostName no-such-host.invalid\n");
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("an ssh alias as the target address", () => {
  it("resolves through ssh_config's HostName (ssh -G, and the parser when OpenSSH is not used)", async () => {
    for (const useOpenSsh of [true, false]) {
      const net = new SystemNetProbe({ sshConfigPath: config, useOpenSsh });
      expect(await net.resolve("labbox")).toEqual(["127.0.0.1"]);
      await expect(net.resolve("elsewhere")).rejects.toThrow(/HostName 'no-such-host\.invalid'/);
      await expect(net.resolve("nothing-knows-this.invalid")).rejects.toThrow(/no ssh_config Host entry/);
    }
  });

  it("connect reaches the debugger at the alias's HostName; an unknown name is E100, exit 3", async () => {
    const stub = new UdpKgdbStub();
    const port = await stub.start();
    const home = stateDirWith([{ name: "box", os: "linux", address: "labbox", transport: { targetPort: port } }]);
    try {
      const env = { NETDBG_HOME: home, NETDBG_SSH_CONFIG: config };
      const ok = await runCli(["--json", "connect", "box", "--no-setup-check", "--exec", "info registers rip"], { env });
      expect(ok.code, ok.stderr + ok.stdout).toBe(0);
      expect(JSON.parse(ok.stdout).results[0].data).toEqual({ rip: "0xffffffff81001234" });
      const bad = await runCli(["--json", "connect", "box", "--no-setup-check", "--exec", "regs"], {
        env: { ...env, NETDBG_SSH_CONFIG: join(dir, "missing") },
      });
      expect(bad.code).toBe(3);
      expect(JSON.parse(bad.stdout).error.code).toBe("NETDBG-E100");
    } finally {
      await stub.stop();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
