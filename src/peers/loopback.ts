/** Peers only ever talk to loopback: 127.0.0.0/8 and ::1. */
export function isLoopback(address: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address) || address === "::1";
}
