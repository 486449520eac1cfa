import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/**
 * SerialRelay (serial-relay.ts) in a child process of its own, with the same surface. The benchmark runs it here:
 * the relay handles one datagram per byte of kgdb's output, and in the benchmark's process it would share netdbg's
 * event loop, which costs netdbg alone (gdb and the raw client are processes of their own); no real serial bridge
 * runs inside the debugger. (A LossyRelay's cost is per datagram: the benchmark keeps it in its process.)
 */
export class SerialRelayProcess {
  private child: ChildProcess | undefined;
  port = 0;
  peerPort = 0;

  /** `loader`: the node flags that run a TypeScript entry; by default the parent's (tsx runs the benchmark). */
  constructor(private readonly loader: string[] = process.execArgv) {}

  /** The relay's process (tests stop it for a while, as a busy machine does). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(qemuLocalPort: number): Promise<void> {
    const main = fileURLToPath(new URL("./relay-main.ts", import.meta.url));
    const child = spawn(process.execPath, [...this.loader, main, String(qemuLocalPort)], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    this.child = child;
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const first = await lines.next();
    if (first.done) throw new Error("the serial relay process exited before it listened");
    const ports = JSON.parse(first.value) as { port: number; peerPort: number };
    this.port = ports.port;
    this.peerPort = ports.peerPort;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.stdin!.end(); // the relay stops when its stdin closes
    await exited;
  }
}
