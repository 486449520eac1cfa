/**
 * The hand-off after setup. Windows: `setup --reboot` waits for the target's first KDNET poke, then attaches
 * for real (the KDNET target peer answers the handshake over UDP on loopback; `connect` runs `version`);
 * `--no-connect` prints the lines instead and never attaches. The loopback target also shows the host firewall
 * step standing aside for a target on this machine.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Context } from "../../src/cli/context.js";
import type { ConnectRequest } from "../../src/cli/connect-options.js";
import { attachWindows } from "../../src/cli/debugger/windows-connect.js";
import { setupFromFlags as windowsSetup } from "../helpers/setup-flags.js";
import type { Target } from "../../src/core/inventory.js";
import { windowsRebootRigs } from "../helpers/windows-cli.js";

afterEach(() => vi.restoreAllMocks());

const rebootRig = windowsRebootRigs();

async function rig() {
  // a terminal to type at: setup attaches only then
  const r = await rebootRig({ prefix: "nd-handoff-", isTTY: true, pokeIntervalMs: 100 });
  const attached: ConnectRequest[] = [];
  const deps = {
    ...r.deps,
    // the real connect, with a command instead of the REPL
    connect: async (c: Context, tt: Target, o: ConnectRequest) => {
      attached.push(o);
      await attachWindows(c, tt, { ...o, exec: "version", timeoutS: 10 });
    },
  };
  return { ...r, deps, attached };
}

describe("hand-off after setup", () => {
  it("Windows --reboot: waits for the first poke, then attaches with connect (a real KDNET handshake)", async () => {
    const { ctx, out, deps, target, port, peers, attached } = await rig();
    await windowsSetup(ctx, target, { reboot: true, connect: true }, deps);
    const text = out.join("");
    expect(text).toContain("Host firewall: not involved (the target 127.0.0.1 is on this machine's loopback).");
    expect(text).toContain(`its KDNET pokes (protocol version 5) reach this host on UDP port ${port}`);
    expect(text).toContain("Attaching: netdbg connect win");
    expect(attached).toEqual([{ port, setupCheck: true, acceptNewHostKey: false }]);
    expect(peers[0]!.stats.handshakes).toBeGreaterThan(0);
    expect(text.slice(text.indexOf("Attaching"))).toMatch(/kd> version\nWindows kernel build \d+ x64/);
    expect(text).not.toContain("or WinDbg:");
  }, 60_000);

  it("Windows --reboot --no-connect: the lines, no attach", async () => {
    const { ctx, out, deps, target, port, peers, attached } = await rig();
    await windowsSetup(ctx, target, { reboot: true, connect: false }, deps);
    const text = out.join("");
    expect(attached).toEqual([]);
    expect(peers[0]!.stats.handshakes).toBe(0);
    expect(text).toContain(`   or WinDbg:  windbg -k net:port=${port},key=<redacted:ee0c0075>\n`);
    expect(text).toContain("Then attach:  netdbg connect win");
  }, 60_000);
});
