/**
 * A home for the tests of one file that run `netdbg` in this process (test/helpers/main.ts runMain) against the
 * Windows target model over SSH: HOME and NETDBG_HOME in a temp dir, the target "win" on 127.0.0.1 reached as
 * `admin` through the in-process ssh2 server (which runs each command on the model `model()` gives at that
 * moment), its host key known, the client key in ~/.ssh and the KDNET key stored. Made before the file's tests;
 * after them the environment is restored, the server stopped and the dir removed.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { type SshPeer, startSshPeer } from "../../src/peers/ssh-server.js";
import type { WindowsTargetModel } from "../../src/peers/windows-target/model.js";
import { freeUdpPort } from "./ports.js";
import { tempDir } from "./sshd.js";

export interface WindowsPeerHomeOptions {
  /** The temp dir's label. */
  label: string;
  /** The KDNET key stored for "win". */
  key: string;
  model: () => WindowsTargetModel;
  /** The inventory's debug port (default: a free one in KDNET's range). */
  port?: number;
  /** The inventory's transport.hostIp (default: none). */
  hostIp?: string;
}

export function windowsPeerHome(o: WindowsPeerHomeOptions): { readonly port: number } {
  const saved = { HOME: process.env.HOME, NETDBG_HOME: process.env.NETDBG_HOME, SSH_AUTH_SOCK: process.env.SSH_AUTH_SOCK };
  let home: string | undefined;
  let srv: SshPeer | undefined;
  let port: number | undefined;
  beforeAll(async () => {
    home = tempDir(o.label);
    port = o.port ?? (await freeUdpPort({ debug: true }));
    srv = await startSshPeer({
      users: ["admin"],
      noSftp: true,
      exec: ({ command, stdin }) => {
        const r = o.model().exec(command, stdin === "" ? undefined : stdin);
        return { stdout: r.stdout, stderr: r.stderr, code: r.exitCode };
      },
    });
    mkdirSync(join(home, ".ssh"), { mode: 0o700 });
    writeFileSync(join(home, ".ssh", "known_hosts"), `${srv.knownHostsLine()}\n`);
    writeFileSync(join(home, ".ssh", "id_ed25519"), srv.clientKey.private, { mode: 0o600 });
    const nd = join(home, "netdbg");
    mkdirSync(join(nd, "keys"), { recursive: true, mode: 0o700 });
    writeFileSync(join(nd, "keys", "win.key"), `${o.key}\n`, { mode: 0o600 });
    writeFileSync(
      join(nd, "targets.yaml"),
      [
        "version: 1",
        "targets:",
        "  - name: win",
        "    os: windows",
        "    address: 127.0.0.1",
        `    ssh: { user: admin, port: ${srv.port}, identityFile: ${join(home, ".ssh", "id_ed25519")} }`,
        `    port: ${port}`,
        ...(o.hostIp ? [`    transport: { hostIp: ${o.hostIp} }`] : []),
        "",
      ].join("\n"),
    );
    process.env.HOME = home;
    process.env.NETDBG_HOME = nd;
    delete process.env.SSH_AUTH_SOCK;
  });
  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await srv?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });
  return {
    get port() {
      if (port === undefined) throw new Error("windowsPeerHome: the home is made in beforeAll; use it inside a test");
      return port;
    },
  };
}
