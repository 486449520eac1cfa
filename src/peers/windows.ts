/**
 * A Windows target as netdbg meets one on the network, built from the peers: the Windows model (PowerShell and
 * bcdedit behaviour) behind a real ssh2 server on 127.0.0.1, and — once the model restarts into an entry that
 * debugs over the network — the KDNET target peer poking the host over real UDP on loopback with the key and
 * host address that setup wrote into the model's {dbgsettings}. Nothing is sent to any address but loopback.
 */
import type { UdpAddress } from "../engine/kdnet/transport.js";
import { parseKdnetKey } from "../core/kdnet-key.js";
import { openUdp } from "../engine/kdnet/udp.js";
import { parseDbgSettings } from "../targets/windows/bcdedit-parse.js";
import { KdnetTargetPeer } from "./kdnet-target/index.js";
import { isLoopback } from "./loopback.js";
import { type SshPeer, startSshPeer } from "./ssh-server.js";
import type { PwshEngine } from "./windows-target/engine.js";
import { channelBytes, defaultState, WindowsTargetModel, type WindowsTargetState } from "./windows-target/model.js";
import { execWith } from "./windows-target/stubs.js";

export interface WindowsPeerOptions {
  state?: WindowsTargetState;
  /** How often the booted kernel pokes the host (default 250 ms; real KDNET: about every 2 s before a debugger answers). */
  pokeIntervalMs?: number;
  /** Lines describing what the simulated machine does (restart, KDNET start), for progress output. */
  onEvent?: (line: string) => void;
  /**
   * Run netdbg's scripts in this real PowerShell engine (windows-target/engine.ts); without it the model's table
   * answers. A promise is an engine still starting: the peer serves SSH at once, and its first script waits for it
   * (undefined: the table answers).
   */
  engine?: PwshEngine | Promise<PwshEngine | undefined>;
  /** Commands matching `re` take `ms` longer to answer (read at each command: tests interrupt a step in flight). */
  slow?: { re: RegExp; ms: number };
}

export interface WindowsPeer {
  ssh: SshPeer;
  model: WindowsTargetModel;
  /** The PowerShell engine that runs the scripts, or undefined when the model's table answers. */
  engine: PwshEngine | undefined;
  /** The SSH user the server accepts. */
  user: string;
  /** The KDNET side of the running kernel, once it booted a debugging entry. */
  readonly kdnet: KdnetTargetPeer | undefined;
  close(): Promise<void>;
}

export async function startWindowsPeer(opts: WindowsPeerOptions = {}): Promise<WindowsPeer> {
  const model = new WindowsTargetModel(opts.state ?? defaultState());
  const user = model.state.user.replace(/^.*\\/, "");
  const say = opts.onEvent ?? (() => {});
  let engine = opts.engine instanceof Promise ? undefined : opts.engine;
  const engineReady = Promise.resolve(opts.engine).then(
    (e) => (engine = e),
    () => undefined,
  );
  let kdnet: KdnetTargetPeer | undefined;
  let starting: Promise<void> = Promise.resolve();

  const stopKdnet = async () => {
    const k = kdnet;
    kdnet = undefined;
    await k?.close();
  };

  model.onBoot = ({ debugging, entry }) => {
    starting = starting.then(async () => {
      await stopKdnet(); // a restart ends the previous kernel's debugger connection
      if (!debugging) {
        say(`the Windows model restarted into ${entry} (no network debugging)`);
        return;
      }
      const d = parseDbgSettings(model.bcd(["/dbgsettings"]).output);
      const host: UdpAddress = { address: d.hostip ?? "", port: Number(d.port) };
      if (!d.key || !isLoopback(host.address) || !Number.isInteger(host.port)) {
        say(`the Windows model restarted into ${entry}, but its {dbgsettings} name no loopback host and key: KDNET stays silent`);
        return;
      }
      const transport = await openUdp({ port: 0, address: "127.0.0.1" });
      kdnet = new KdnetTargetPeer({
        transport,
        key: parseKdnetKey(d.key),
        host,
        pokeIntervalMs: opts.pokeIntervalMs ?? 250,
      });
      kdnet.start();
      say(
        `the Windows model restarted into the debug entry ${entry}: KDNET pokes ${host.address}:${host.port} from 127.0.0.1:${transport.local.port}`,
      );
    });
  };

  const ssh = await startSshPeer({
    users: [user],
    noSftp: true, // netdbg talks to Windows through PowerShell only
    exec: async ({ command, stdin }) => {
      if (opts.slow?.re.test(command)) await new Promise((res) => setTimeout(res, opts.slow!.ms));
      const r = await execWith(model, await engineReady, command, stdin === "" ? undefined : stdin);
      await starting; // a restart's KDNET start is part of the reboot command's effect
      if (r.dropped) return { code: 255 };
      // a real engine's bytes go out as they are (OEM code page), as OpenSSH for Windows passes them
      return { ...channelBytes(r), code: r.exitCode };
    },
  });

  return {
    ssh,
    model,
    get engine() {
      return engine;
    },
    user,
    get kdnet() {
      return kdnet;
    },
    async close() {
      await starting.catch(() => undefined);
      await stopKdnet();
      await ssh.stop();
    },
  };
}
