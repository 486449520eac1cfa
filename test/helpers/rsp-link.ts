import { afterEach } from "vitest";
import { RspClient, type RspClientOptions } from "../../src/engine/rsp/client.js";
import { GdbRemote } from "../../src/engine/rsp/remote.js";
import { UdpTransport } from "../../src/engine/transport/udp.js";
import { TEXT_BASE, UdpKgdbStub } from "../../src/peers/rsp-stub.js";
import { LossyRelay, type LossyRelayOptions } from "./lossy-relay.js";

/**
 * One RSP link over loopback UDP as the RSP tests and the bench use it: a kgdb-like stub holding `memory` at
 * TEXT_BASE, a LossyRelay in front of it (clean unless told), an RspClient and a GdbRemote through the relay,
 * attached. Everything runs in this process.
 */
export interface RspLinkOptions {
  memory: Buffer;
  /** Stub output datagram size (default 2048: whole packets). */
  flushSize?: number;
  /** The stub's way out in bytes per ms (see UdpStubOptions.outBytesPerMs; default: no limit). */
  outBytesPerMs?: number;
  /** The relay's damage. Read live: a test may change `drop` while the link runs. */
  relay?: Omit<LossyRelayOptions, "target">;
  client?: RspClientOptions;
}

export interface RspLink {
  stub: UdpKgdbStub;
  relay: LossyRelay;
  transport: UdpTransport;
  client: RspClient;
  remote: GdbRemote;
}

/**
 * A function that opens links (see RspLinkOptions) for the tests of one file, and an afterEach that closes every
 * link a test opened (client, relay, stub), whether the test passed or not.
 */
export function rspLinks(): (options: RspLinkOptions) => Promise<RspLink> {
  const open: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of open.splice(0).reverse()) await close();
  });
  return async (o) => {
    const stub = new UdpKgdbStub({
      flushSize: o.flushSize ?? 2048,
      ...(o.outBytesPerMs ? { outBytesPerMs: o.outBytesPerMs } : {}),
      regions: [{ base: TEXT_BASE, data: o.memory }],
    });
    const stubPort = await stub.start();
    open.push(() => stub.stop());
    // the caller's object itself, so a change to its damage reaches the running relay
    const relayOptions = Object.assign(o.relay ?? {}, { target: { host: "127.0.0.1", port: stubPort } });
    const relay = new LossyRelay(relayOptions);
    const port = await relay.start();
    open.push(() => relay.stop());
    const transport = await UdpTransport.open({ kind: "udp", host: "127.0.0.1", port });
    const client = new RspClient(transport, o.client);
    open.push(() => client.close());
    const remote = new GdbRemote(client);
    await remote.attach();
    return { stub, relay, transport, client, remote };
  };
}
