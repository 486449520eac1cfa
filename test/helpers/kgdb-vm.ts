import { type ChildProcess, spawn } from "node:child_process";
import dgram from "node:dgram";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import { SerialRelayProcess } from "./relay-process.js";
import { SerialRelay } from "./serial-relay.js";

/**
 * The lab's KGDB kernel (from `netdbg lab build`'s cache) booted in a private QEMU on loopback: no network
 * device, the lab's disk image in snapshot mode, kgdboc on ttyS1 (`kgdboc=ttyS1,115200`, see
 * https://docs.kernel.org/process/debugging/kgdb.html) wired to UDP with QEMU's second `-serial udp:…`
 * (https://www.qemu.org/docs/master/system/invocation.html, -serial) through a SerialRelay.
 * Independent of the one-per-machine `netdbg lab up`.
 */
export const LAB_CACHE = join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "netdbg/lab");

export function findLabImage(cache = LAB_CACHE): { kernelDir: string; disk: string } | undefined {
  if (!existsSync(cache)) return undefined;
  for (const d of readdirSync(cache).filter((x) => x.startsWith("image-"))) {
    try {
      const m = JSON.parse(readFileSync(join(cache, d, "manifest.json"), "utf8")) as { inputs: { kernel: string } };
      const disk = join(cache, d, "disk.img");
      if (existsSync(disk) && existsSync(join(m.inputs.kernel, "bzImage")) && existsSync(join(m.inputs.kernel, "vmlinux"))) {
        return { kernelDir: m.inputs.kernel, disk };
      }
    } catch {}
  }
  return undefined;
}

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export class KgdbVm {
  /** In this process, or (`relayProcess`, the benchmark's choice: see relay-process.ts) in a child process. */
  readonly relay: SerialRelay | SerialRelayProcess;
  private qemu: ChildProcess | undefined;
  vmlinux = "";
  readonly monitor: string;
  readonly consoleLog: string;

  constructor(
    readonly work: string,
    options: { relayProcess?: boolean } = {},
  ) {
    this.relay = options.relayProcess ? new SerialRelayProcess() : new SerialRelay();
    this.monitor = join(work, "monitor.sock");
    this.consoleLog = join(work, "console.log");
  }

  /** `udp:127.0.0.1:PORT`: the relay port any client (netdbg, gdb) talks to. */
  get endpoint(): string {
    return `udp:127.0.0.1:${this.relay.port}`;
  }

  async boot(log: (s: string) => void = () => {}): Promise<void> {
    const img = findLabImage();
    if (!img) throw new Error(`no lab image with a KGDB kernel under ${LAB_CACHE}: run 'netdbg lab build'`);
    this.vmlinux = join(img.kernelDir, "vmlinux");
    const local = await freeUdpPort();
    await this.relay.start(local);
    this.qemu = spawn(
      "qemu-system-x86_64",
      [
        ...[
          "-name",
          "rsp-lab-kgdb",
          "-accel",
          "tcg",
          "-m",
          "1024",
          "-smp",
          "1",
          "-display",
          "none",
          "-no-reboot",
          "-nic",
          "none",
        ],
        ...["-kernel", join(img.kernelDir, "bzImage")],
        ...["-append", "root=/dev/vda rw console=ttyS0,115200 panic=-1 nokaslr kgdboc=ttyS1,115200"],
        ...["-drive", `file=${img.disk},if=virtio,format=raw,snapshot=on`],
        ...["-serial", `file:${this.consoleLog}`, "-serial", `udp:127.0.0.1:${this.relay.peerPort}@127.0.0.1:${local}`],
        ...["-monitor", `unix:${this.monitor},server,nowait`],
      ],
      { stdio: "ignore" },
    );
    const t0 = Date.now();
    for (;;) {
      const text = existsSync(this.consoleLog) ? readFileSync(this.consoleLog, "latin1") : "";
      if (/login:|Reached target.*(Multi-User|Login Prompts)/.test(text)) break;
      if (this.qemu.exitCode !== null) throw new Error(`QEMU exited during boot:\n${text.slice(-2000)}`);
      if (Date.now() - t0 > 400_000) throw new Error(`the KGDB kernel did not boot in 400 s:\n${text.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    log(`KGDB kernel booted in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await new Promise((r) => setTimeout(r, 3000));
  }

  /**
   * sysrq-g through the QEMU monitor: the kernel enters kgdb and waits on ttyS1. Under TCG on a loaded machine
   * a key can be lost (or arrive while the kernel is still leaving the previous stop), so this waits for the
   * kernel's own "sysrq: DEBUG" line on the console and presses the keys again until it appears.
   */
  async breakIn(timeoutMs = 90_000): Promise<void> {
    const seen = () => (existsSync(this.consoleLog) ? readFileSync(this.consoleLog, "latin1") : "");
    const start = seen().length;
    const t0 = Date.now();
    for (let attempt = 1; ; attempt++) {
      await this.sendMonitor("sendkey alt-sysrq-g\n");
      const until = Date.now() + 8000;
      while (Date.now() < until) {
        await new Promise((r) => setTimeout(r, 250));
        if (/sysrq: DEBUG|SysRq : DEBUG/i.test(seen().slice(start))) {
          await new Promise((r) => setTimeout(r, 500)); // kgdb_breakpoint() follows the console line
          return;
        }
      }
      if (Date.now() - t0 > timeoutMs)
        throw new Error(`the kernel did not enter kgdb after ${attempt} sysrq-g presses:\n${seen().slice(-1500)}`);
    }
  }

  private sendMonitor(line: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const s = net.connect(this.monitor, () => {
        s.write(line);
        setTimeout(() => {
          s.end();
          resolve();
        }, 300);
      });
      s.on("error", reject);
    });
  }

  get running(): boolean {
    return this.qemu !== undefined && this.qemu.exitCode === null;
  }

  async stop(): Promise<void> {
    const q = this.qemu;
    if (q && q.exitCode === null) {
      const done = new Promise((r) => q.once("exit", r));
      q.kill("SIGKILL");
      await done;
    }
    await this.relay.stop();
  }
}
