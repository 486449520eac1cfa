/**
 * For the tests of one file that run the CLI as a child process (test/helpers/cli.ts) against one built-in peer
 * (src/peers: a real ssh2 server on 127.0.0.1 in front of a target model): the peer, started before the tests,
 * and a NETDBG_HOME holding the peer's host key (known_hosts), its client key and an inventory with the one target
 * `target(peer, ssh)` describes (`ssh`: how to reach the peer). After the tests the peer is closed and the home
 * removed.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import type { SshPeer } from "../../src/peers/ssh-server.js";

interface BuiltInPeer {
  ssh: SshPeer;
  user: string;
  close(): Promise<void>;
}

export interface PeerSsh {
  user: string;
  port: number;
  identityFile: string;
  knownHostsFile: string;
}

export interface PeerHome<P> {
  readonly peer: P;
  /** The NETDBG_HOME. */
  readonly home: string;
}

export function peerHome<P extends BuiltInPeer>(
  prefix: string,
  start: () => Promise<P>,
  target: (peer: P, ssh: PeerSsh) => Record<string, unknown>,
): PeerHome<P> {
  let peer: P | undefined;
  let home: string | undefined;
  beforeAll(async () => {
    peer = await start();
    home = mkdtempSync(join(tmpdir(), prefix));
    writeFileSync(join(home, "known_hosts"), `${peer.ssh.knownHostsLine()}\n`);
    const key = join(home, "id");
    writeFileSync(key, peer.ssh.clientKey.private, { mode: 0o600 });
    const ssh = { user: peer.user, port: peer.ssh.port, identityFile: key, knownHostsFile: join(home, "known_hosts") };
    writeFileSync(join(home, "targets.yaml"), `version: 1\ntargets:\n  - ${JSON.stringify(target(peer, ssh))}\n`);
  });
  afterAll(async () => {
    await peer?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });
  const made = () => {
    if (!peer || !home) throw new Error("peerHome: the peer starts in beforeAll; use it inside a test");
    return { peer, home };
  };
  return {
    get peer() {
      return made().peer;
    },
    get home() {
      return made().home;
    },
  };
}
