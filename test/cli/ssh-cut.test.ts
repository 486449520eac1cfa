/**
 * An SSH connection that breaks in the middle of apply is the network's doing: a coded error (exit 3) that
 * names the step in flight and says a rerun resumes, the journal valid; the rerun converges and teardown
 * restores. The target is the built-in Linux peer (a real ssh2 server on 127.0.0.1) that cuts its TCP
 * connection, as a pulled cable would, right after the kgdboe build ran.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkJournal } from "../../src/core/journal.js";
import { startLinuxPeer } from "../../src/peers/linux.js";
import { runCliSource as runCli } from "../helpers/cli.js";
import { peerHome } from "../helpers/peer-home.js";

const COMPAT = fileURLToPath(new URL("../../assets/kgdboe-compat", import.meta.url));
const lab = peerHome(
  "nd-cut-",
  () => startLinuxPeer({ cutOn: /make -C/ }),
  (peer, ssh) => ({
    name: "lin",
    os: "linux",
    address: "127.0.0.1",
    ssh,
    transport: { hostIp: "127.0.0.1", targetPort: peer.udpPort, kgdboeSource: COMPAT },
  }),
);

const setup = () =>
  runCli(["setup", "lin", "--no-connect", "--no-host-firewall", "--json"], {
    env: { NETDBG_HOME: lab.home },
    timeoutMs: 120_000,
  });

describe("the SSH connection cut during apply", () => {
  it("is exit 3 with E808 naming the step; the journal stays valid; a rerun converges and teardown restores", async () => {
    const cut = await setup();
    expect(cut.code, cut.stderr).toBe(3);
    const err = JSON.parse(cut.stdout).error as { code: string; message: string; fix: string };
    expect(err.code).toBe("NETDBG-E808");
    expect(err.message).toMatch(/broke during step '.*[Bb]uild/);
    expect(err.fix).toMatch(/setup converges from where it stopped/);
    const journalFile = join(lab.home, "state", "journals", "lin.json");
    const checked = checkJournal(JSON.parse(readFileSync(journalFile, "utf8")), "lin");
    if (!("journal" in checked)) throw new Error(`journal invalid: ${checked.problem}`);
    // the build ran on the target but its answer never came: not "applied"
    expect(checked.journal.entries.find((e) => e.id === "module.build")?.status).not.toBe("applied");

    const again = await setup();
    expect(again.code, again.stderr).toBe(0);
    expect(lab.peer.model.state.loaded).not.toBeNull();
    const down = await runCli(["teardown", "lin", "--json"], { env: { NETDBG_HOME: lab.home }, timeoutMs: 120_000 });
    expect(down.code, down.stderr).toBe(0);
    expect(lab.peer.model.state.loaded).toBeNull();
  }, 240_000);
});
