import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { LossyRelayOptions, RelayStats } from "./lossy-relay.js";

/**
 * A relay (SerialRelay or LossyRelay) in a child process of its own, with the same surface as the in-process one.
 * A benchmark runs its relays here: in the benchmark's process they would share netdbg's event loop (a serial
 * relay handles one datagram per byte of kgdb's output), which costs netdbg alone — gdb and the raw client are
 * processes of their own — and no real bridge (a terminal server, QEMU) runs inside the debugger.
 */
abstract class RelayProcess {
  private child: ChildProcess | undefined;
  private lines: AsyncIterator<string> | undefined;
  port = 0;

  protected async spawn(args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const main = fileURLToPath(new URL("./relay-main.ts", import.meta.url));
    // the parent's loader flags (tsx) run the TypeScript entry as they run this file
    const child = spawn(process.execPath, [...process.execArgv, main, JSON.stringify(args)], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    this.child = child;
    this.lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    return this.next("started");
  }

  private async next(what: string): Promise<Record<string, unknown>> {
    const line = await this.lines?.next();
    if (!line || line.done) throw new Error(`the relay process exited before it ${what}`);
    return JSON.parse(line.value) as Record<string, unknown>;
  }

  /** Stop the relay; its final stats (a LossyRelay's) come back. */
  protected async end(): Promise<Record<string, unknown>> {
    const child = this.child;
    if (!child || child.exitCode !== null) return {};
    const exited = new Promise((r) => child.once("exit", r));
    child.stdin!.end("stop\n");
    const last = await this.next("stopped").catch(() => ({}));
    await exited;
    this.child = undefined;
    return last;
  }
}

/** SerialRelay (serial-relay.ts) in its own process. */
export class SerialRelayProcess extends RelayProcess {
  peerPort = 0;

  async start(qemuLocalPort: number): Promise<void> {
    const r = await this.spawn({ kind: "serial", qemuLocalPort });
    this.port = r.port as number;
    this.peerPort = r.peerPort as number;
  }

  async stop(): Promise<void> {
    await this.end();
  }
}

/** LossyRelay (lossy-relay.ts) in its own process; `stats` is filled in by stop(). */
export class LossyRelayProcess extends RelayProcess {
  stats: RelayStats = { forwarded: 0, dropped: 0, duplicated: 0, reordered: 0 };

  constructor(private readonly options: LossyRelayOptions) {
    super();
  }

  async start(): Promise<number> {
    const r = await this.spawn({ kind: "lossy", options: this.options });
    this.port = r.port as number;
    return this.port;
  }

  async stop(): Promise<void> {
    const last = await this.end();
    if (last.stats) this.stats = last.stats as RelayStats;
  }
}
