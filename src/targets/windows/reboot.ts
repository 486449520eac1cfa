/**
 * `--reboot`: restart the target into the debug entry and wait for its first KDNET poke at the host (a PokeWatch
 * the caller opened on the host debug port before the reboot: the engine's passive listener, which never
 * answers), and for SSH to come back, then read which entry booted ({current} by GUID, locale-free) and whether
 * its debug flag is on.
 *
 * The poke is the primary signal: a poke that does not authenticate with the stored key is NETDBG-E220; SSH back
 * in a debugging entry with no poke within the grace period is NETDBG-E221. SSH is the extra (which entry
 * booted) and the fallback when no watch could be opened (the port is taken, e.g. by a running WinDbg).
 */
import { netdbgError } from "../../core/error.js";
import { plainAddress } from "../../core/ip.js";
import type { Clock } from "../../core/interfaces.js";
import { type BcdObject, bcdElement, parseBcdBoolean, parseBcdEnum } from "./bcdedit-parse.js";
import type { ScriptRunner } from "./ps.js";

export interface RebootOptions {
  target: string;
  /** The runner of the current session: the reboot is requested through it. */
  run: ScriptRunner;
  /** Close the current session (the reboot ends it anyway). */
  close: () => Promise<void>;
  /** Open a new session and return its runner; throws while the target is down. */
  reconnect: () => Promise<{ run: ScriptRunner; close: () => Promise<void> }>;
  clock: Clock;
  delaySeconds?: number;
  timeoutMs?: number;
  intervalMs?: number;
  /** Watch on the host debug port, opened before the reboot; absent: wait for SSH only. */
  poke?: PokeWatch;
  /** After SSH is back in a debugging entry, how long to still wait for a poke (pokes come every ~3 s). */
  pokeGraceMs?: number;
}

/** What the host saw of the target's first KDNET poke (Microsoft's 'Set up KDNET network kernel debugging manually' and the captures in test/fixtures/kdnet (Lekensteyn/kdnet's windbg-uncut, AeroCTF 2021's kek.pcap): pokes every ~3 s). */
export interface KdnetPoke {
  /** address:port the poke came from. */
  from: string;
  /** KDNET protocol version byte. */
  version: number;
  /** true: authenticated with the stored key; false: it did not (another key); null: not checked. */
  authenticated: boolean | null;
  /** The host address and port the (authenticated) poke says the target was configured for. */
  hostAddress?: string;
  hostPort?: number;
  /** The target's own address as the (authenticated) poke carries it inside its encrypted body. */
  targetAddress?: string;
}

/**
 * The KDNET source to record in the inventory (transport.kdnetAddress) after --reboot saw a poke, or undefined.
 * Only an authenticated poke whose inner target address is its source counts (a replay from elsewhere carries the
 * address of where it was captured). With KDNET the physical NIC's driver does not load and KDNET's own adapter
 * takes DHCP or 169.254.x.x, so the source may well differ from the SSH address
 * (learn.microsoft.com/windows-hardware/drivers/debugger/setting-up-a-network-debugging-connection-automatically).
 */
export function kdnetSourceToRecord(
  poke: KdnetPoke,
  sshAddress: string,
  recorded: string | undefined,
): { address: string; differs: boolean } | undefined {
  if (poke.authenticated !== true) return undefined;
  const source = plainAddress(poke.from.replace(/^\[?(.*?)\]?:\d+$/, "$1"));
  if (poke.targetAddress === undefined || plainAddress(poke.targetAddress) !== source) return undefined;
  const differs = source !== plainAddress(sshAddress);
  if (recorded !== undefined ? plainAddress(recorded) === source : !differs) return undefined;
  return { address: source, differs };
}

/** A passive watch on the host debug port (real time: pokes are network packets, not clock ticks). */
export interface PokeWatch {
  readonly port: number;
  /** The first poke since the watch opened, waiting at most `timeoutMs`; undefined when none came. */
  first(timeoutMs: number): Promise<KdnetPoke | undefined>;
}

export interface RebootResult {
  /** GUID of the entry Windows booted ({current}), lower case; undefined when SSH did not come back. */
  bootedEntry: string | undefined;
  debug: boolean | undefined;
  attempts: number;
  /** The first KDNET poke (undefined without a watch, or when the booted entry does not debug). */
  poke?: KdnetPoke;
  /** Whether SSH came back (false only when the poke arrived but SSH did not: `sshError` says why). */
  ssh: boolean;
  sshError?: string;
  /** The runner of the new session (caller closes it with `close`); absent when SSH did not come back. */
  run?: ScriptRunner;
  close?: () => Promise<void>;
}

interface SshBack {
  bootedEntry: string | undefined;
  debug: boolean | undefined;
  attempts: number;
  run: ScriptRunner;
  close: () => Promise<void>;
}

export async function rebootAndWait(o: RebootOptions): Promise<RebootResult> {
  const delay = o.delaySeconds ?? 5;
  const timeoutMs = o.timeoutMs ?? 600_000;
  await o.run.run("reboot", { DelaySeconds: delay });
  await o.close().catch(() => undefined);
  const stop = { now: false };
  const ssh = waitForSsh(o, stop);
  if (!o.poke) return { ...(await ssh), ssh: true };
  const watch = o.poke;
  ssh.catch(() => undefined);
  const settled = ssh.then(
    (back) => ({ kind: "ssh" as const, back }),
    (error: unknown) => ({ kind: "ssh-failed" as const, error }),
  );
  const first = await Promise.race([watch.first(timeoutMs).then((poke) => ({ kind: "poke" as const, poke })), settled]);
  let poke: KdnetPoke | undefined;
  if (first.kind === "poke") poke = first.poke;
  else if (first.kind === "ssh-failed") {
    poke = await watch.first(0);
    if (!poke) throw first.error;
  } else {
    const b = first.back;
    // Booted something that does not debug: no poke is coming; the caller reports the entry.
    if (b.debug === false) return { ...b, ssh: true };
    poke = await watch.first(o.pokeGraceMs ?? 30_000);
    if (!poke) {
      await b.close().catch(() => undefined);
      throw netdbgError("E221", {
        target: o.target,
        port: watch.port,
        seconds: Math.round((o.pokeGraceMs ?? 30_000) / 1000),
        entry: b.bootedEntry ?? "?",
      });
    }
  }
  if (poke?.authenticated === false) {
    stop.now = true;
    const s = await Promise.race([settled, Promise.resolve(undefined)]);
    if (s?.kind === "ssh") await s.back.close().catch(() => undefined);
    throw netdbgError("E220", { target: o.target, port: watch.port, from: poke.from });
  }
  const s = await settled;
  if (s.kind === "ssh") return { ...s.back, ssh: true, ...(poke ? { poke } : {}) };
  // The target pokes (so it booted a debugging entry) but SSH stayed away: KDNET is what matters here.
  const why = s.error instanceof Error ? s.error.message : String(s.error);
  return { bootedEntry: undefined, debug: undefined, attempts: 0, ssh: false, sshError: why, ...(poke ? { poke } : {}) };
}

async function waitForSsh(o: RebootOptions, stop: { now: boolean }): Promise<SshBack> {
  const delay = o.delaySeconds ?? 5;
  const timeoutMs = o.timeoutMs ?? 600_000;
  const interval = o.intervalMs ?? 5_000;
  await o.clock.sleep(delay * 1000 + interval);
  const deadline = o.clock.now().getTime() + timeoutMs;
  let last = "";
  let attempts = 0;
  for (;;) {
    if (stop.now) throw new Error("stopped waiting for SSH");
    attempts++;
    try {
      const s = await o.reconnect();
      if (stop.now) {
        await s.close().catch(() => undefined);
        throw new Error("stopped waiting for SSH");
      }
      try {
        const r = await s.run.run<{ exitCode: number; output: string }>("bcdedit", { BcdArgs: ["/enum", "{current}", "/v"] });
        const cur = r.exitCode === 0 ? parseBcdEnum(r.output)[0] : undefined;
        return {
          bootedEntry: cur?.guid,
          debug: cur ? await entryDebugs(s.run, cur) : undefined,
          attempts,
          run: s.run,
          close: s.close,
        };
      } catch (e) {
        await s.close().catch(() => undefined);
        throw e;
      }
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (o.clock.now().getTime() >= deadline) {
      throw netdbgError("E219", { target: o.target, seconds: Math.round(timeoutMs / 1000), last: last.slice(0, 200) });
    }
    await o.clock.sleep(interval);
  }
}

/** BcdOSLoaderElementTypes KernelDebuggerEnabled (learn.microsoft.com/previous-versions/windows/desktop/bcd/bcdosloaderelementtypes). */
const KERNEL_DEBUGGER_ENABLED = 0x260000a0;

/**
 * Whether a boot entry debugs, read locale-free: the typed `debug` boolean through the BCD WMI provider
 * (templates/windows/bcd-booleans.ps1), absent = off. bcdedit prints it in the display language ('Có', 'Tak', …),
 * so its text is only the fallback when the provider does not answer.
 */
export async function entryDebugs(run: ScriptRunner, entry: BcdObject): Promise<boolean | undefined> {
  const text = () => parseBcdBoolean(bcdElement(entry, "debug") ?? "");
  if (!entry.guid) return text();
  const r = await run.run<{ booleans: { type: number; value: boolean } | { type: number; value: boolean }[] | null }>(
    "bcd-booleans",
    { Id: entry.guid },
  );
  if (r.booleans === null || r.booleans === undefined) return text();
  const bs = Array.isArray(r.booleans) ? r.booleans : [r.booleans];
  return bs.find((b) => Number(b.type) === KERNEL_DEBUGGER_ENABLED)?.value ?? false;
}
