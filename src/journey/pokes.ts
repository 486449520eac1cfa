/**
 * The --reboot wait's passive watch on the host debug port: the engine's KDNET listener, which never answers a
 * poke, so no handshake is completed and the debugger can take over later. It listens in 1 s windows so closing
 * it never leaves a long timer.
 */
import { parseKdnetKey } from "../core/kdnet-key.js";
import { listenForPokes } from "../engine/kdnet/listen.js";
import type { DatagramTransport } from "../engine/kdnet/transport.js";
import type { KdnetPoke, PokeWatch } from "../targets/windows/reboot.js";

export function pokeWatch(transport: DatagramTransport, keyText: string): PokeWatch & { close(): Promise<void> } {
  const key = parseKdnetKey(keyText);
  let seen: KdnetPoke | undefined;
  let closed = false;
  const waiters = new Set<(p: KdnetPoke | undefined) => void>();
  void (async () => {
    while (!closed && !seen) {
      const s = (await listenForPokes(transport, { key, durationMs: 1000, stopAfterFirstPoke: true })).find((x) => x.pokes > 0);
      if (s && !closed) {
        seen = {
          from: s.from,
          version: s.version,
          authenticated: s.authenticated,
          ...(s.hostAddress !== undefined ? { hostAddress: s.hostAddress } : {}),
          ...(s.hostPort !== undefined ? { hostPort: s.hostPort } : {}),
          ...(s.targetAddress !== undefined ? { targetAddress: s.targetAddress } : {}),
        };
        for (const w of waiters) w(seen);
      }
    }
  })();
  return {
    port: transport.local.port,
    first: (timeoutMs) =>
      seen || closed
        ? Promise.resolve(seen)
        : new Promise((resolve) => {
            const done = (p: KdnetPoke | undefined) => {
              clearTimeout(t);
              waiters.delete(done);
              resolve(p);
            };
            const t = setTimeout(() => done(undefined), timeoutMs);
            waiters.add(done);
          }),
    close: async () => {
      closed = true;
      for (const w of [...waiters]) w(undefined);
      await transport.close();
    },
  };
}
