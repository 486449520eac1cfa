/**
 * A Linux target as netdbg meets one on the network, built from the peers: the Linux model (a box with a KGDB
 * kernel: probe answers, kbuild, insmod, kernel log) behind a real ssh2 server on 127.0.0.1, and the kernel's
 * debugger — kgdb's GDB remote protocol stub — on a real UDP socket on 127.0.0.1 that answers only while the
 * model has kgdboe loaded with that port. The model's own network is a QEMU-style guest (10.0.2.15 behind
 * 10.0.2.2) reached through loopback port forwards, like the built-in lab.
 */
import { type LinuxTargetState, LinuxTargetModel } from "./linux-target.js";
import { BANNER, BANNER_ADDR, UdpKgdbStub } from "./rsp-stub.js";
import { type SshPeer, startSshPeer } from "./ssh-server.js";

export interface LinuxPeerOptions {
  state?: Partial<LinuxTargetState>;
  /** Cut the SSH connection (once) when a command matching this runs: it has run on the model, no answer comes. */
  cutOn?: RegExp;
  /** Commands matching `re` take `ms` longer to answer (a slow build, to interrupt one in the middle). */
  slow?: { re: RegExp; ms: number };
}

export interface LinuxPeer {
  ssh: SshPeer;
  model: LinuxTargetModel;
  stub: UdpKgdbStub;
  user: string;
  /** The UDP port on 127.0.0.1 where the kernel's kgdboe listens once loaded (pass it as kgdboe's udp_port). */
  udpPort: number;
  /** Where the kernel keeps linux_banner, and what it says (x/s shows it). */
  banner: { address: bigint; text: string };
  close(): Promise<void>;
}

export async function startLinuxPeer(opts: LinuxPeerOptions = {}): Promise<LinuxPeer> {
  const model = new LinuxTargetModel(opts.state ?? {});
  let cutOn = opts.cutOn;
  let udpPort = 0;
  const stub = new UdpKgdbStub({ flushSize: 30, listening: () => model.state.loaded?.udp_port === String(udpPort) });
  udpPort = await stub.start();
  const ssh = await startSshPeer({
    users: ["root"],
    exec: async ({ command }) => {
      // SFTP uploads land in the server's file store: they become the model's files before the command runs,
      // and what the command removed disappears from the store too.
      for (const [p, f] of ssh.files) model.state.files.set(p, f.data.toString("latin1"));
      if (opts.slow?.re.test(command)) await new Promise((res) => setTimeout(res, opts.slow!.ms));
      const r = await model.exec(command);
      for (const p of [...ssh.files.keys()]) if (!model.state.files.has(p)) ssh.files.delete(p);
      if (cutOn?.test(command)) {
        cutOn = undefined;
        return { cut: true };
      }
      return { stdout: r.stdout, stderr: r.stderr, code: r.exitCode };
    },
  });
  return {
    ssh,
    model,
    stub,
    user: "root",
    udpPort,
    banner: { address: BANNER_ADDR, text: BANNER },
    async close() {
      await ssh.stop();
      await stub.stop();
    },
  };
}
