import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/**
 * Which process holds a local UDP port, where the OS says so cheaply: on Linux the socket's inode from
 * /proc/net/udp{,6} (local address column, port in hex), then the process whose fd links to `socket:[inode]`
 * (proc(5)). Other processes' fds are readable only by their owner or root: then the answer may be undefined.
 * Anything else (another OS, a race with the process exiting) is undefined too: this only improves a message.
 */
export function udpPortHolder(port: number): string | undefined {
  if (process.platform !== "linux") return undefined;
  const inodes = new Set<string>();
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  for (const table of ["/proc/net/udp", "/proc/net/udp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[1]?.endsWith(`:${hex}`) && f[9] !== "0") inodes.add(f[9]!);
    }
  }
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && inodes.has(m[1]!)) {
        let name = "?";
        try {
          name = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
        } catch {}
        return `pid ${pid}, ${name}`;
      }
    }
  }
  return undefined;
}
