/**
 * Pure helpers of the doctor's live probes: the commands that send one marked UDP datagram from a target to
 * the host (values quoted with core/quote.ts, never spliced), the TTL → hop estimate and the throughput a round
 * trip implies. The adapters that run them live in the CLI (src/cli/doctor-deps.ts).
 */
import { psEncodedCommand, psQuote, shQuote } from "../core/quote.js";

/** How many copies the target sends (UDP may drop one), and the gap between them. */
export const DATAGRAM_COPIES = 3;

/**
 * POSIX sh for a Linux target: bash's /dev/udp when bash exists, else python3; exit 127 when neither does.
 * Read-only on the target: it only sends. `payload`, `host` and `port` are arguments, never code.
 */
export function udpSendShell(payload: string, host: string, port: number): string {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError(`bad port ${port}`);
  const py =
    "import socket,sys; h=sys.argv[2]; s=socket.socket(socket.AF_INET6 if ':' in h else socket.AF_INET, socket.SOCK_DGRAM); s.sendto(sys.argv[1].encode(), (h, int(sys.argv[3])))";
  return [
    `p=${shQuote(payload)}; h=${shQuote(host)}; o=${port}; i=0;`,
    "if command -v bash >/dev/null 2>&1; then via='bash /dev/udp'; elif command -v python3 >/dev/null 2>&1; then via=python3;",
    "else echo 'netdbg: neither bash nor python3 is installed on the target' >&2; exit 127; fi;",
    'echo "via=$via";',
    `while [ "$i" -lt ${DATAGRAM_COPIES} ]; do`,
    `if [ "$via" = python3 ]; then python3 -c ${shQuote(py)} "$p" "$h" "$o" || exit 1;`,
    `else bash -c 'printf %s "$1" > "/dev/udp/$2/$3"' netdbg "$p" "$h" "$o" || exit 1; fi;`,
    "i=$((i+1)); sleep 0.2; done",
  ].join(" ");
}

/** The PowerShell for a Windows target (System.Net.Sockets.UdpClient), as a powershell.exe -EncodedCommand line. */
export function udpSendPowerShellScript(payload: string, host: string, port: number): string {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError(`bad port ${port}`);
  return [
    "$ErrorActionPreference = 'Stop'",
    `$p = ${psQuote(payload)}; $h = ${psQuote(host)}; $o = ${port}`,
    "$b = [System.Text.Encoding]::ASCII.GetBytes($p)",
    "$u = New-Object System.Net.Sockets.UdpClient([System.Net.IPAddress]::Parse($h).AddressFamily)",
    `for ($i = 0; $i -lt ${DATAGRAM_COPIES}; $i++) { [void]$u.Send($b, $b.Length, $h, $o); Start-Sleep -Milliseconds 200 }`,
    "$u.Close()",
    "'via=PowerShell UdpClient'",
  ].join("\n");
}

export function udpSendPowerShell(payload: string, host: string, port: number): string {
  return `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ${psEncodedCommand(udpSendPowerShellScript(payload, host, port))}`;
}

/** `ping` output (iputils, BusyBox or Windows) → the TTL of the first reply. */
export function parsePingTtl(text: string): number | undefined {
  const m = /\bttl[=:](\d{1,3})\b/i.exec(text);
  if (!m) return undefined;
  const ttl = Number(m[1]);
  return ttl >= 1 && ttl <= 255 ? ttl : undefined;
}

/**
 * Routers between us and the target, from the TTL its reply arrived with: hosts start at 64 (Linux, macOS),
 * 128 (Windows) or 255 (some network gear), and every router takes one off. The nearest start at or above the
 * observed TTL is taken (an estimate: it assumes the return path is as long as the way there).
 */
export function hopsFromTtl(ttl: number): number {
  const start = [32, 64, 128, 255].find((s) => s >= ttl) ?? 255;
  return start - ttl;
}

/**
 * Bytes one memory-read round trip carries: KDNET reads ≤ 1096 bytes per request (rizin's rzwinkd kd.h: KD_MAX_PAYLOAD 0x480 less the 56-byte manipulate header),
 * kgdb `m` packets 496 bytes (gdb-rsp.md §B3). Both protocols are stop-and-wait: throughput = payload / RTT.
 */
export const BYTES_PER_ROUND_TRIP = { windows: 1096, linux: 496 } as const;

export function impliedThroughput(os: "windows" | "linux", rttMs: number): number {
  return BYTES_PER_ROUND_TRIP[os] / (Math.max(rttMs, 0.01) / 1000);
}

export function formatRate(bytesPerSecond: number): string {
  if (bytesPerSecond >= 1024 * 1024) return `${(bytesPerSecond / (1024 * 1024)).toFixed(1)} MiB/s`;
  return `${(bytesPerSecond / 1024).toFixed(bytesPerSecond < 10 * 1024 ? 1 : 0)} KiB/s`;
}

/** `1 Gbps`, `10 Gbps`, `100 Mbps` (Get-NetAdapter LinkSpeed) → bits per second. */
export function parseLinkSpeed(text: string): number | undefined {
  const m = /^\s*([\d.]+)\s*([KMGT])bps\s*$/i.exec(text);
  if (!m) return undefined;
  const mult = { K: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2]!.toUpperCase() as "K" | "M" | "G" | "T"];
  return Number(m[1]) * mult;
}
