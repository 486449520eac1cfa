/**
 * `netdbg demo`: the whole journey in seconds, with no hardware and no root, against the built-in peers on
 * loopback (src/peers): a Windows model behind a real ssh2 server plus the KDNET target peer on real UDP, and a
 * Linux model behind a real ssh2 server plus kgdb's RSP stub on real UDP. netdbg's own code paths do the work —
 * `setup` (windowsSetup / linuxSetup with netdbg's SSH client, the file journal, the secret store), `connect`
 * (KDNET + KD, GDB remote protocol over UDP), `teardown` — in a private state directory that is removed at the
 * end (unless --keep). The only seams: the SSH client reads the demo's own known_hosts and key (no ~/.ssh), the
 * Windows model's restart takes no time so reboot waits are shortened, and the host debug port binds 127.0.0.1.
 */
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { netdbgError } from "../../core/error.js";
import type { Target } from "../../core/inventory.js";
import type { Clock } from "../../core/interfaces.js";
import { redactSecret } from "../../core/redact.js";
import { openUdp } from "../../engine/kdnet/udp.js";
import { isUdpPortFree } from "../../io/port-probe.js";
import { connectSsh } from "../../io/ssh.js";
import { type LinuxPeer, startLinuxPeer } from "../../peers/linux.js";
import { startWindowsPeer, type WindowsPeer } from "../../peers/windows.js";
import { locatePwsh, PwshEngine } from "../../peers/windows-target/engine.js";
import { type Context, captureContext, createContext } from "../context.js";
import { attachLinux } from "../debugger/linux-connect.js";
import { BUNDLED_KGDBOE_SOURCE, resolveKgdboeSource } from "../../io/kgdboe-source.js";
import { DEFAULT_KGDBOE_GIT } from "../../targets/linux/paths.js";
import { attachWindows } from "../debugger/windows-connect.js";
import { parseSetupRequest, parseTeardownRequest } from "../options.js";
import { setupTarget, teardownTarget } from "../setup-run.js";

const WIN = "demo-win";
const LINUX = "demo-linux";

/** A free UDP port in KDNET's range (49152–65535), drawn at random so demos running side by side do not collide. */
async function freeDebugPort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 49152 + Math.floor(Math.random() * (65535 - 49152));
    if (await isUdpPortFree(port)) return port;
  }
  throw netdbgError("E770", { what: "KDNET host port", reason: "no free UDP port in 49152–65535 after 200 tries" });
}

/** How long a Ctrl-C waits for the demo's steps to stop (they fail at once when their targets stop) before it removes the state. */
const INTERRUPT_GRACE_MS = 5000;

/** Real time, except that waits are capped: the model restarts at once, so a 10 s "give it time to reboot" is 0.05 s. */
const demoClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 50))),
};

interface Phase {
  out: string[];
  json: unknown[];
  log: string[];
}

/** Show a captured phase's output and log lines (already redacted by captureContext) on the demo's own context. */
function replay(ctx: Context, p: Phase): void {
  for (const l of p.log) {
    if (l.startsWith("debug: ")) ctx.log.debug(l.slice(7));
    else if (l.startsWith("warning: ")) ctx.log.warn(l.slice(9));
    else if (l.startsWith("error: ")) ctx.log.error(l.slice(7));
    else ctx.log.info(l);
  }
  for (const o of p.out) ctx.out(o);
}

export interface DemoOptions {
  os?: string;
  keep?: boolean;
  kgdboeSource?: string;
}

export async function runDemo(parent: Context, opts: DemoOptions): Promise<void> {
  const t0 = performance.now();
  const os = opts.os ?? "windows";
  if (os !== "windows" && os !== "linux") {
    throw netdbgError("E003", {
      option: "--os",
      value: os,
      reason: "expected windows or linux",
      fix: "Pass --os windows or --os linux.",
    });
  }
  const source = opts.kgdboeSource ?? BUNDLED_KGDBOE_SOURCE;
  if (!opts.kgdboeSource && !existsSync(source)) throw netdbgError("E771", { path: source });
  await resolveKgdboeSource(source, DEFAULT_KGDBOE_GIT); // a bad --kgdboe-source stops here, before anything starts
  const json = Boolean(parent.opts.json);
  const interactive = parent.isTTY && Boolean(process.stdout.isTTY) && !json;

  const dir = await mkdtemp(join(tmpdir(), "netdbg-demo-"));
  const ctx = createContext({ ...parent.opts, stateDir: dir });
  ctx.secretsSeen.push(...parent.secretsSeen);
  const step = (text: string) => ctx.log.info(`demo: ${text}`);
  /**
   * In --json mode each phase's one JSON object (and its output) is captured and folded into the demo's object;
   * `capture` holds a phase's output in any mode (one run beside another, shown after it).
   */
  const phase = (capture = json): [Context, Phase] => {
    const sink: Phase = { out: [], json: [], log: [] };
    return [capture ? captureContext(ctx, sink) : ctx, sink];
  };

  let win: WindowsPeer | undefined;
  let lin: LinuxPeer | undefined;
  let engine: PwshEngine | undefined;
  /** The engine from the moment it is created: an interrupt while it starts must stop its pwsh too. */
  let engineStarting: PwshEngine | undefined;
  const stopTargets = () =>
    Promise.all([win?.close(), engineStarting?.close(), lin?.close()].map((p) => p?.catch(() => undefined)));
  const removeState = () => (opts.keep ? undefined : rm(dir, { recursive: true, force: true }));
  /** Settles when the demo's own steps have stopped (the `finally` below): after it nothing of theirs writes to `dir`. */
  let stepsStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (stepsStopped = resolve));
  /**
   * Ctrl-C: stop the targets, so that the step in flight fails at once, and wait for the steps to stop before the
   * state directory goes. A step still running would write into it again (a setup's journal, as it records its
   * undo), recreating the directory the demo had just removed; so the removal waits for them, a bounded time.
   */
  let interrupted = false;
  const onSigint = () => {
    process.stderr.write("\ndemo: interrupted: stopping the built-in targets and removing the demo state\n");
    interrupted = true;
    void (async () => {
      await stopTargets();
      await Promise.race([stopped, delay(INTERRUPT_GRACE_MS)]); // the exit below ends the timer
      await removeState();
    })()
      .catch(() => undefined)
      .finally(() => process.exit(130));
  };
  process.once("SIGINT", onSigint);

  try {
    step(`state directory ${dir} (inventory, KDNET key, change journals; ${opts.keep ? "kept" : "removed"} at the end)`);
    // The Windows model's scripts run in a real PowerShell when pwsh is installed (PowerShell 7 on PATH or as a
    // .NET global tool); without it the model answers from its table. The summary says which.
    const pwsh = locatePwsh();
    let scriptEngine = "the Windows model's table (no PowerShell 7 'pwsh' found)";
    const started = pwsh
      ? (async () => {
          const e = new PwshEngine(pwsh, 1);
          engineStarting = e;
          try {
            await e.start();
            await e.warmUp();
            engine = e;
            scriptEngine = `PowerShell ${e.version} (${pwsh})`;
          } catch (x) {
            await e.close().catch(() => undefined);
            scriptEngine = `the Windows model's table (pwsh at ${pwsh} did not start: ${(x as Error).message.split("\n")[0]})`;
          }
        })()
      : Promise.resolve();
    try {
      // the Windows peer serves SSH at once; its first script waits for the engine, which starts (and warms up)
      // while the Linux half runs
      const linStarted = startLinuxPeer();
      win = await startWindowsPeer({ onEvent: (l) => step(l), engine: started.then(() => engine) });
      lin = await linStarted;
    } catch (e) {
      throw netdbgError("E770", { what: "targets", reason: (e as Error).message }, { cause: e });
    }
    step(
      `${WIN}: a Windows 11 model (BCD store, Intel 82574L NIC, BitLocker on) behind a real SSH server on 127.0.0.1:${win.ssh.port}`,
    );
    step(
      `${LINUX}: a Linux ${lin.model.state.release} model (KGDB kernel, e1000 NIC) behind a real SSH server on 127.0.0.1:${lin.ssh.port}; its kgdb stub answers on UDP 127.0.0.1:${lin.udpPort} once kgdboe is loaded`,
    );

    // The demo's own SSH material: one client key per target and a known_hosts with both host keys.
    const sshDir = join(dir, "ssh");
    await mkdir(sshDir, { mode: 0o700 });
    const knownHostsPath = join(sshDir, "known_hosts");
    await writeFile(knownHostsPath, `${win.ssh.knownHostsLine()}\n${lin.ssh.knownHostsLine()}\n`);
    const winKey = join(sshDir, "id_demo_win");
    const linKey = join(sshDir, "id_demo_linux");
    await writeFile(winKey, win.ssh.clientKey.private, { mode: 0o600 });
    await writeFile(linKey, lin.ssh.clientKey.private, { mode: 0o600 });
    await chmod(winKey, 0o600);
    await chmod(linKey, 0o600);
    step(`known_hosts ${knownHostsPath}: both targets' host keys recorded, so SSH asks no host-key question`);

    const kdnetPort = await freeDebugPort();
    const winTarget: Target = {
      name: WIN,
      os: "windows",
      address: "127.0.0.1",
      ssh: { user: win.user, port: win.ssh.port, identityFile: winKey },
      port: kdnetPort,
      transport: { hostIp: "127.0.0.1" },
      note: "netdbg demo: Windows model on loopback",
    };
    const linTarget: Target = {
      name: LINUX,
      os: "linux",
      address: "127.0.0.1",
      ssh: { user: lin.user, port: lin.ssh.port, identityFile: linKey },
      transport: { targetPort: lin.udpPort },
      note: "netdbg demo: Linux model on loopback",
    };
    await ctx.inventory.update(async (inv) => {
      inv.targets.push(winTarget, linTarget);
    });
    step(`inventory ${ctx.paths.inventory}: ${WIN} and ${LINUX} at 127.0.0.1`);

    const openSession = (t: Target) =>
      connectSsh({ target: t, knownHostsPath, sshConfigPath: null, agentSocket: null, homeDir: dir, logger: ctx.log });
    // the targets are on loopback: the host firewall is not involved (no root, nothing to open or close);
    // setup's host firewall step leaves it alone and says why
    const noFirewall = { hostFirewall: false, hostFirewallReason: "the target is on loopback" };

    // ---- Linux: setup (probe, plan, upload + build + load kgdboe, verify); first, since it needs no PowerShell
    // engine: a pwsh that is starting meanwhile costs the demo nothing
    step(`setup ${LINUX}: probe over SSH, plan, upload the kgdboe source by SFTP, build it with kbuild, load it, verify`);
    const [linSetupCtx, linSetup] = phase();
    await setupTarget(linSetupCtx, linTarget, parseSetupRequest({ kgdboeSource: source, connect: false, ...noFirewall }), {
      openSession: (t) => openSession(t),
    });

    await started;
    step(`${WIN}: its PowerShell scripts run in ${scriptEngine}`);

    // ---- Windows: setup → restart into the debug entry → first KDNET poke
    const winBefore = win.model.storeBytes();
    step(`host IP for ${WIN}: 127.0.0.1 (the target is on loopback); KDNET host port: UDP ${kdnetPort}`);
    step(
      `setup ${WIN}: generate and store a KDNET key, probe over SSH, plan, apply (BCD export, entry copy, dbgsettings, busparams, BitLocker suspension, one-time boot), verify, restart, wait for the first poke`,
    );
    const [winSetupCtx, winSetup] = phase();
    await setupTarget(winSetupCtx, winTarget, parseSetupRequest({ reboot: true, connect: false, ...noFirewall }), {
      openSession: (t) => openSession(t),
      clock: demoClock,
      openKdnetPort: (p) => openUdp({ port: p, address: "127.0.0.1" }),
      pokeGraceMs: 10_000,
    });
    const key = await ctx.secrets.get(WIN);
    if (key !== undefined) {
      ctx.secretsSeen.push(key);
      step(`KDNET key of ${WIN}: ${redactSecret(key)} (stored in ${ctx.secrets.kind}; --show-secrets prints it)`);
    }

    // ---- hand-off: the debuggers
    const bannerAt = `0x${lin.banner.address.toString(16)}`;
    const winCmds = "version; r";
    const linCmds = `x/s ${bannerAt}; regs`;
    const linuxDebug = { timeoutS: 10, setupCheck: true, acceptNewHostKey: false };
    let winConnect: Phase | undefined;
    let linConnect: Phase | undefined;
    if (interactive) {
      if (os === "windows") {
        step(`hand-off: 'netdbg connect ${WIN}' — the KD prompt; 'q' leaves (the Linux prompt: netdbg demo --os linux)`);
        await attachWindows(ctx, winTarget, { timeoutS: 30, before: "r" });
      } else {
        step(`hand-off: 'netdbg connect ${LINUX}' — the GDB-protocol prompt; 'quit' leaves (the Windows prompt: netdbg demo)`);
        await attachLinux(ctx, linTarget, { ...linuxDebug, before: linCmds });
      }
    } else {
      step(`hand-off: 'netdbg connect ${WIN} --exec "${winCmds}"' (KDNET + KD over UDP)`);
      const [c1, p1] = phase();
      await attachWindows(c1, winTarget, { timeoutS: 30, exec: winCmds });
      winConnect = p1;
      step(`hand-off: 'netdbg connect ${LINUX} --exec "${linCmds}"' (GDB remote protocol over UDP)`);
      const [c2, p2] = phase();
      await attachLinux(c2, linTarget, { ...linuxDebug, exec: linCmds });
      linConnect = p2;
    }

    // ---- teardown: undo every journaled change, then check the targets look as they did
    // both at once, as two `netdbg teardown` in two terminals would: the Windows one waits on PowerShell, the Linux
    // one on SSH round trips. The Linux one's output is held and shown after the Windows one's, so neither interleaves
    step(`teardown ${WIN} and ${LINUX}, side by side: replay the change journals' undos in reverse`);
    const [winDownCtx, winDown] = phase();
    const [linDownCtx, linDown] = phase(true);
    const linDownDone = teardownTarget(linDownCtx, linTarget, parseTeardownRequest({}), { openSession: (t) => openSession(t) });
    const winDownDone = teardownTarget(winDownCtx, winTarget, parseTeardownRequest({}), { openSession: (t) => openSession(t) });
    const [winDownResult, linDownResult] = await Promise.allSettled([winDownDone, linDownDone]);
    if (!json) {
      step(`teardown ${LINUX} ran alongside: its output follows`);
      replay(ctx, linDown);
    }
    if (winDownResult.status === "rejected") throw winDownResult.reason;
    if (linDownResult.status === "rejected") throw linDownResult.reason;
    const winAfter = win.model.storeBytes();
    if (winAfter !== winBefore) throw netdbgError("E772", { target: WIN, what: "its BCD store is not the one it had" });
    const left = lin.model.leftovers();
    if (left.length || lin.model.state.loaded)
      throw netdbgError("E772", {
        target: LINUX,
        what: lin.model.state.loaded ? "kgdboe is still loaded" : `files remain: ${left.join(", ")}`,
      });
    const elapsedMs = Math.round(performance.now() - t0);
    step(`${WIN}: netdbg's Windows scripts ran in ${scriptEngine}`);
    step(
      `done in ${(elapsedMs / 1000).toFixed(1)} s: both targets are as they were. Next: a real kernel with 'netdbg lab up', then 'netdbg setup lab' and 'netdbg connect lab'.`,
    );

    if (json) {
      const only = (p: Phase | undefined) => (p?.json.length === 1 ? p.json[0] : (p?.json ?? null));
      ctx.json({
        demo: { elapsedMs, stateDir: dir, kept: Boolean(opts.keep), kdnetPort },
        targets: [winTarget, linTarget].map((t) => ({ name: t.name, os: t.os, ssh: `127.0.0.1:${t.ssh?.port}` })),
        windows: {
          scripts: engine ? { engine: "pwsh", version: engine.version } : { engine: "model-table" },
          setup: only(winSetup),
          connect: only(winConnect),
          teardown: only(winDown),
        },
        linux: { setup: only(linSetup), connect: only(linConnect), teardown: only(linDown) },
        restored: { [WIN]: true, [LINUX]: true },
      });
    }
  } finally {
    process.removeListener("SIGINT", onSigint);
    stepsStopped();
    // interrupted: the handler removes the state and exits 130; the step's own error must not end the run first
    if (interrupted) await new Promise<never>(() => {});
    // the key generated in the demo's context must stay redacted in an error reported by the caller's context
    for (const sec of ctx.secretsSeen) if (!parent.secretsSeen.includes(sec)) parent.secretsSeen.push(sec);
    await stopTargets();
    await removeState();
  }
}
