export { TcpTransport } from "./tcp.js";
export { type Endpoint, formatEndpoint, parseEndpoint, type Transport } from "./types.js";
export { UdpTransport } from "./udp.js";

import { TcpTransport } from "./tcp.js";
import type { Endpoint, Transport } from "./types.js";
import { UdpTransport } from "./udp.js";

export async function openTransport(ep: Endpoint): Promise<Transport> {
  return ep.kind === "udp" ? UdpTransport.open(ep) : TcpTransport.open(ep);
}
