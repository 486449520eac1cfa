/**
 * Real network namespaces for tests: a "host" namespace and a "target" namespace joined by a veth pair on
 * a private /24 of our own. Namespace names carry the branch prefix `nd-host-` (house rule); they are
 * removed in afterAll.
 *
 * Robustness: on a shared machine another session may mount a fresh layer over /run/netns (`ip netns add`
 * does that when /run/netns is not yet a mount point in its own mount namespace), which hides every named
 * namespace created before. So each namespace gets a holder process (`ip netns exec <name> sleep …`) right
 * away, and every command enters the namespace through that pid (`nsenter -t <pid> -n -m`), never by name.
 * The holder's mount namespace is the one `ip netns exec` prepares: /sys for that netns and the
 * /etc/netns/<name>/* bind mounts (private ufw/firewalld state).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { cpSync, mkdirSync, readlinkSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { CommandResult, CommandRunner, RunOptions } from "../../src/core/interfaces.js";
import { ExecaCommandRunner } from "../../src/io/command-runner.js";

export const UDP_TOOL = fileURLToPath(new URL("./udp-tool.mjs", import.meta.url));

/** Fail (never skip) with the Debian package to install when a tool is missing. */
export function requireTool(tool: string, pkg: string): void {
  try {
    execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "pipe" });
  } catch {
    throw new Error(`this test needs '${tool}': apt-get install ${pkg} (listed in .ci/apt-packages.txt)`);
  }
}

function run(file: string, args: readonly string[], input?: string): string {
  try {
    return execFileSync(file, args, {
      encoding: "utf8",
      stdio: ["pipe", "pipe", "pipe"],
      ...(input === undefined ? {} : { input }),
    });
  } catch (e) {
    const err = e as { stderr?: string; message?: string };
    throw new Error(`${file} ${args.join(" ")} failed: ${err.stderr || err.message}`);
  }
}

/** Runs commands inside a namespace held by `pid` (network and mount namespace). */
export class NsenterRunner implements CommandRunner {
  constructor(
    readonly pid: number,
    private readonly inner: CommandRunner = new ExecaCommandRunner(),
  ) {}
  run(file: string, args: readonly string[], options?: RunOptions): Promise<CommandResult> {
    return this.inner.run("nsenter", [...this.prefix(), file, ...args], options);
  }
  /** Entering a mount namespace resets the working directory: keep ours (it exists there too). */
  private prefix(): string[] {
    return ["-t", String(this.pid), "-n", "-m", `--wd=${process.cwd()}`];
  }
  argv(...argv: string[]): string[] {
    return ["nsenter", ...this.prefix(), ...argv];
  }
}

/** One named network namespace plus the process that holds it. */
class HeldNamespace {
  private holder: ChildProcess | undefined;
  pid = 0;
  constructor(readonly name: string) {}

  async create(etc: Record<string, string> = {}): Promise<void> {
    this.destroy();
    const own = readlinkSync("/proc/self/ns/net");
    for (let attempt = 0; ; attempt++) {
      try {
        run("ip", ["netns", "add", this.name]);
        for (const [entry, src] of Object.entries(etc)) {
          mkdirSync(`/etc/netns/${this.name}`, { recursive: true });
          cpSync(src, `/etc/netns/${this.name}/${entry}`, { recursive: true });
        }
        const holder = spawn("ip", ["netns", "exec", this.name, "sleep", "3600"], { stdio: "ignore" });
        this.holder = holder;
        this.pid = holder.pid ?? 0;
        // readiness: the holder has entered the namespace
        for (let i = 0; i < 100; i++) {
          let ns = own;
          try {
            ns = readlinkSync(`/proc/${this.pid}/ns/net`);
          } catch {
            // not yet
          }
          if (ns !== own && holder.exitCode === null) return;
          if (holder.exitCode !== null) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        throw new Error(`the holder of ${this.name} did not start`);
      } catch (e) {
        this.destroy();
        if (attempt >= 4) throw e;
      }
    }
  }

  runner(inner?: CommandRunner): NsenterRunner {
    return new NsenterRunner(this.pid, inner);
  }

  exec(argv: readonly string[], input?: string): string {
    return run("nsenter", ["-t", String(this.pid), "-n", "-m", `--wd=${process.cwd()}`, ...argv], input);
  }

  destroy(): void {
    if (this.holder && this.holder.exitCode === null) this.holder.kill("SIGKILL");
    this.holder = undefined;
    try {
      execFileSync("ip", ["netns", "del", this.name], { stdio: "ignore" });
    } catch {
      // not there (or hidden by another /run/netns layer: it goes away with its holder)
    }
    rmSync(`/etc/netns/${this.name}`, { recursive: true, force: true });
  }
}

export class NetnsPair {
  readonly host: HeldNamespace;
  readonly target: HeldNamespace;
  readonly hostIp: string;
  readonly targetIp: string;
  /** A second address in the target namespace: traffic from it must stay blocked by a scoped rule. */
  readonly otherIp: string;

  /** `tag`: short unique word per test; `subnet`: third octet of 10.231.<subnet>.0/24. */
  readonly tag: string;

  constructor(tag: string, subnet: number) {
    // The pid keeps two test runs on one machine (two checkouts, two developers) out of each other's way.
    this.tag = `${tag}${process.pid % 100000}`;
    this.host = new HeldNamespace(`nd-host-${this.tag}-h`);
    this.target = new HeldNamespace(`nd-host-${this.tag}-t`);
    this.hostIp = `10.231.${subnet}.1`;
    this.targetIp = `10.231.${subnet}.2`;
    this.otherIp = `10.231.${subnet}.3`;
  }

  get hostNs(): string {
    return this.host.name;
  }

  get hostIf(): string {
    return `ndh-${this.tag}-h`.slice(0, 15);
  }

  get targetIf(): string {
    return `ndh-${this.tag}-t`.slice(0, 15);
  }

  /** `hostEtc`: /etc entries the host namespace sees as private copies (e.g. {ufw: "/etc/ufw"}). */
  async create(hostEtc: Record<string, string> = {}): Promise<void> {
    await this.host.create(hostEtc);
    await this.target.create();
    run("ip", [
      "link",
      "add",
      this.hostIf,
      "netns",
      String(this.host.pid),
      "type",
      "veth",
      "peer",
      "name",
      this.targetIf,
      "netns",
      String(this.target.pid),
    ]);
    this.inHost("ip", "addr", "add", `${this.hostIp}/24`, "dev", this.hostIf);
    this.inTarget("ip", "addr", "add", `${this.targetIp}/24`, "dev", this.targetIf);
    this.inTarget("ip", "addr", "add", `${this.otherIp}/24`, "dev", this.targetIf);
    for (const dev of [this.hostIf, "lo"]) this.inHost("ip", "link", "set", dev, "up");
    for (const dev of [this.targetIf, "lo"]) this.inTarget("ip", "link", "set", dev, "up");
  }

  destroy(): void {
    this.host.destroy();
    this.target.destroy();
  }

  /** A CommandRunner whose commands run in the host namespace. */
  hostRunner(inner?: CommandRunner): NsenterRunner {
    return this.host.runner(inner);
  }

  /** Run a command inside the host namespace (test setup only). */
  inHost(...argv: string[]): string {
    return this.host.exec(argv);
  }

  inHostWithInput(input: string, ...argv: string[]): string {
    return this.host.exec(argv, input);
  }

  inTarget(...argv: string[]): string {
    return this.target.exec(argv);
  }

  /** argv that runs a command in the host namespace (for spawn). */
  hostArgv(...argv: string[]): string[] {
    return this.host.runner().argv(...argv);
  }

  /**
   * Send one UDP datagram from the target namespace to host:port and report whether a listener in the host
   * namespace received it. A datagram not received within `windowMs` counts as dropped (on a veth pair
   * delivery takes well under a millisecond; the window only bounds the negative case).
   */
  async probe(port: number, options: { srcPort?: number; srcAddr?: string; windowMs?: number } = {}): Promise<boolean> {
    const { srcPort = 31337, windowMs = 1500 } = options;
    const [file, ...args] = this.hostArgv(process.execPath, UDP_TOOL, "listen", String(port), String(windowMs));
    const listener = spawn(file!, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    listener.stdout.setEncoding("utf8");
    listener.stderr.setEncoding("utf8");
    listener.stderr.on("data", (d: string) => {
      err += d;
    });
    const exited = new Promise<number>((resolve) => listener.once("exit", (code) => resolve(code ?? -1)));
    const ready = new Promise<void>((resolve, reject) => {
      listener.stdout.on("data", (d: string) => {
        out += d;
        if (out.includes("ready")) resolve();
      });
      void exited.then(() => reject(new Error(`listener exited early: ${out}${err}`)));
    });
    await ready;
    this.inTarget(
      process.execPath,
      UDP_TOOL,
      "send",
      this.hostIp,
      String(port),
      String(srcPort),
      "netdbg-probe",
      ...(options.srcAddr ? [options.srcAddr] : []),
    );
    const code = await exited;
    if (code === 0) return out.includes("got netdbg-probe");
    if (code === 3) return false;
    throw new Error(`listener failed (exit ${code}): ${out}${err}`);
  }
}
