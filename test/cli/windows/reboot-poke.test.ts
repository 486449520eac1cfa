/**
 * `netdbg setup --reboot` waits for the target's first KDNET poke at the host: the Windows model's restart starts a
 * KDNET target peer (src/peers/kdnet-target) that pokes the host debug port over real UDP on loopback with the key
 * from the model's {dbgsettings}, to the host address and port from it. The host only listens (never answers).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { setupFromFlags as windowsSetup } from "../../helpers/setup-flags.js";
import { isNetdbgError } from "../../../src/core/error.js";
import { generateKdnetKey } from "../../../src/core/kdnet-key.js";
import { openUdp } from "../../../src/engine/kdnet/udp.js";
import { windowsRebootRigs } from "../../helpers/windows-cli.js";
import { KEY } from "../../helpers/windows-config.js";

afterEach(() => vi.restoreAllMocks());

const rig = windowsRebootRigs();
const poke = (o: Parameters<typeof rig>[0] = {}) => rig({ prefix: "nd-windows-poke-", json: true, ...o });

describe("setup --reboot waits for the target's first KDNET poke", () => {
  it("reports the poke (version, authenticated with the stored key) and the debug entry over SSH; no handshake", async () => {
    const { ctx, model, out, deps, target, port, peers, peerTransport } = await poke();
    await windowsSetup(ctx, target, { reboot: true }, deps);
    const obj = JSON.parse(out.join(""));
    expect(model.state.boots).toBe(1);
    expect(obj.reboot).toEqual({
      bootedEntry: obj.entry,
      debugEntry: true,
      debug: true,
      ssh: true,
      poke: {
        from: `127.0.0.1:${peerTransport.local.port}`,
        version: 5,
        authenticated: true,
        hostAddress: "127.0.0.1",
        hostPort: port,
        targetAddress: "127.0.0.1",
      },
    });
    // the host only listened: the target never got a response
    expect(peers).toHaveLength(1);
    expect(peers[0]!.connected).toBe(false);
    expect(peers[0]!.stats.handshakes).toBe(0);
    // the port is free again for the debugger
    const again = await openUdp({ port, address: "127.0.0.1" });
    await again.close();
  });

  it("pokes that do not authenticate with the stored key stop with NETDBG-E220 and its fix", async () => {
    const { ctx, deps, target, port, peers } = await poke({ peerKey: generateKdnetKey().text });
    const e = await windowsSetup(ctx, target, { reboot: true }, deps).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isNetdbgError(e) && e.code).toBe("NETDBG-E220");
    expect((e as Error).message).toContain(`UDP port ${port}`);
    expect((e as Error & { fix: string }).fix).toContain("netdbg setup win");
    expect((e as Error).message).not.toContain(KEY);
    expect(peers[0]!.stats.handshakes).toBe(0);
  });

  it("SSH back in the debug entry but no poke within the grace period is NETDBG-E221", async () => {
    const { ctx, deps, target, port } = await poke({ noPeer: true });
    const e = await windowsSetup(ctx, target, { reboot: true }, { ...deps, pokeGraceMs: 300 }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isNetdbgError(e) && e.code).toBe("NETDBG-E221");
    expect((e as Error).message).toContain(`UDP port ${port}`);
  });

  it("falls back to waiting for SSH when the host debug port is taken (e.g. by WinDbg)", async () => {
    const { ctx, out, deps, target, port, defer } = await poke({ noPeer: true });
    // free at the port step, taken by the time the reboot watch binds it
    let busy: Awaited<ReturnType<typeof openUdp>> | undefined;
    const taken = async (p: number) => {
      busy = await openUdp({ port, address: "127.0.0.1" });
      defer(() => busy!.close());
      return deps.openKdnetPort!(p);
    };
    await windowsSetup(ctx, target, { reboot: true }, { ...deps, openKdnetPort: taken });
    expect(busy).toBeDefined();
    const obj = JSON.parse(out.join(""));
    expect(obj.reboot).toEqual({ bootedEntry: obj.entry, debugEntry: true, debug: true, poke: null, ssh: true });
  });
});
