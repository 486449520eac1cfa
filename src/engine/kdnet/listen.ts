/**
 * Passive listener for doctor / `netdbg kdnet listen`: which targets poke this port, with which protocol version, and
 * whether a key authenticates their pokes — without answering (no handshake is ever completed).
 * Poke layout and ~3 s cadence: the captures in test/fixtures/kdnet (Lekensteyn/kdnet's windbg-uncut, AeroCTF 2021's kek.pcap).
 */
import type { KdnetKey } from "../../core/kdnet-key.js";
import { kdnetControlKey, kdnetHmacKey } from "../../core/kdnet-key.js";
import { parsePoke } from "./control.js";
import { CHANNEL_CONTROL, type KdnetKeys, openDatagram, peekHeader } from "./datagram.js";
import { type DatagramTransport, endpointKey } from "./transport.js";

export interface PokeSource {
  from: string;
  address: string;
  port: number;
  version: number;
  pokes: number;
  /** true: the key authenticates; false: it does not (wrong key); null: no key given. */
  authenticated: boolean | null;
  /** What the (authenticated) poke says about the target and the host it was configured for. */
  targetAddress?: string;
  hostAddress?: string;
  hostPort?: number;
  /** Data-channel datagrams seen (a session with another debugger is live). */
  dataDatagrams: number;
}

export interface ListenOptions {
  key?: KdnetKey;
  durationMs: number;
  /** Stop as soon as every source seen has sent a poke (default true after the first poke). */
  stopAfterFirstPoke?: boolean;
  onPoke?: (s: PokeSource) => void;
}

export function listenForPokes(transport: DatagramTransport, opts: ListenOptions): Promise<PokeSource[]> {
  const keys: KdnetKeys | undefined = opts.key
    ? (() => {
        const control = kdnetControlKey(opts.key);
        return { control, hmac: kdnetHmacKey(control) };
      })()
    : undefined;
  const sources = new Map<string, PokeSource>();
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      transport.onMessage(() => {});
      resolve([...sources.values()]);
    };
    const timer = setTimeout(finish, opts.durationMs);
    transport.onMessage((buf, from) => {
      const h = peekHeader(buf);
      if (!h) return;
      const k = endpointKey(from);
      let s = sources.get(k);
      if (!s) {
        s = {
          from: k,
          address: from.address,
          port: from.port,
          version: h.version,
          pokes: 0,
          authenticated: keys ? false : null,
          dataDatagrams: 0,
        };
        sources.set(k, s);
      }
      if (h.channel !== CHANNEL_CONTROL) {
        s.dataDatagrams++;
        return;
      }
      s.pokes++;
      s.version = h.version;
      if (keys) {
        const r = openDatagram(buf, keys);
        if (r.ok) {
          const poke = parsePoke(r.datagram.body);
          s.authenticated = true;
          if (poke) {
            s.targetAddress = poke.targetAddress;
            s.hostAddress = poke.hostAddress;
            s.hostPort = poke.hostPort;
          }
        }
      }
      opts.onPoke?.(s);
      if (opts.stopAfterFirstPoke ?? true) finish();
    });
  });
}
