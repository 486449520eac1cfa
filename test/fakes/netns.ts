/**
 * Real network namespaces for tests: a "host" namespace and a "target" namespace joined by a veth pair on
 * a private /24 of our own. Names carry the branch prefix `nd-host-` (house rule) and are removed in afterAll.
 */
import { execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const UDP_TOOL = fileURLToPath(new URL("./udp-tool.mjs", import.meta.url));

/** Fail (never skip) with the Debian package to install when a tool is missing. */
export function requireTool(tool: string, pkg: string): void {
  try {
    execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "pipe" });
  } catch {
    throw new Error(`this test needs '${tool}': apt-get install ${pkg} (listed in .ci/apt-packages.txt)`);
  }
}

function ip(...args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

export class NetnsPair {
  readonly hostNs: string;
  readonly targetNs: string;
  readonly hostIp: string;
  readonly targetIp: string;
  /** A second address in the target namespace: traffic from it must stay blocked by a scoped rule. */
  readonly otherIp: string;

  /** `tag`: short unique word per test file; `subnet`: third octet of 10.231.<subnet>.0/24. */
  readonly tag: string;

  constructor(tag: string, subnet: number) {
    // The pid keeps two test runs on one machine (two checkouts, two developers) out of each other's way.
    this.tag = `${tag}${process.pid % 100000}`;
    this.hostNs = `nd-host-${this.tag}-h`;
    this.targetNs = `nd-host-${this.tag}-t`;
    this.hostIp = `10.231.${subnet}.1`;
    this.targetIp = `10.231.${subnet}.2`;
    this.otherIp = `10.231.${subnet}.3`;
  }

  create(): void {
    this.destroy();
    ip("netns", "add", this.hostNs);
    ip("netns", "add", this.targetNs);
    const hv = `ndh-${this.tag}-h`.slice(0, 15);
    const tv = `ndh-${this.tag}-t`.slice(0, 15);
    ip("link", "add", hv, "netns", this.hostNs, "type", "veth", "peer", "name", tv, "netns", this.targetNs);
    ip("-n", this.hostNs, "addr", "add", `${this.hostIp}/24`, "dev", hv);
    ip("-n", this.targetNs, "addr", "add", `${this.targetIp}/24`, "dev", tv);
    ip("-n", this.targetNs, "addr", "add", `${this.otherIp}/24`, "dev", tv);
    for (const [ns, dev] of [
      [this.hostNs, hv],
      [this.targetNs, tv],
      [this.hostNs, "lo"],
      [this.targetNs, "lo"],
    ] as const) {
      ip("-n", ns, "link", "set", dev, "up");
    }
  }

  /** Run a command inside the host namespace (test setup only). */
  inHost(...argv: string[]): string {
    return execFileSync("ip", ["netns", "exec", this.hostNs, ...argv], { encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
  }

  inTarget(...argv: string[]): string {
    return execFileSync("ip", ["netns", "exec", this.targetNs, ...argv], { encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
  }

  get hostIf(): string {
    return `ndh-${this.tag}-h`.slice(0, 15);
  }

  destroy(): void {
    for (const ns of [this.hostNs, this.targetNs]) {
      try {
        ip("netns", "del", ns);
      } catch {
        // not there
      }
    }
  }

  /**
   * Send one UDP datagram from the target namespace (source port `srcPort`) to host:port and report whether
   * a listener in the host namespace received it. A datagram not received within `windowMs` counts as dropped
   * (on a veth pair delivery takes well under a millisecond; the window only bounds the negative case).
   */
  async probe(port: number, options: { srcPort?: number; srcAddr?: string; windowMs?: number } = {}): Promise<boolean> {
    const { srcPort = 31337, windowMs = 1500 } = options;
    const listener = spawn(
      "ip",
      ["netns", "exec", this.hostNs, process.execPath, UDP_TOOL, "listen", String(port), String(windowMs)],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    listener.stdout.setEncoding("utf8");
    const ready = new Promise<void>((resolve, reject) => {
      listener.stdout.on("data", (d: string) => {
        out += d;
        if (out.includes("ready")) resolve();
      });
      listener.once("exit", () => reject(new Error(`listener exited early: ${out}`)));
    });
    const exited = new Promise<number>((resolve) => listener.once("exit", (code) => resolve(code ?? -1)));
    await ready;
    execFileSync("ip", [
      "netns",
      "exec",
      this.targetNs,
      process.execPath,
      UDP_TOOL,
      "send",
      this.hostIp,
      String(port),
      String(srcPort),
      "netdbg-probe",
      ...(options.srcAddr ? [options.srcAddr] : []),
    ]);
    const code = await exited;
    if (code === 0) return out.includes("got netdbg-probe");
    if (code === 3) return false;
    throw new Error(`listener failed (exit ${code}): ${out}`);
  }
}
