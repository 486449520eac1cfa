/**
 * Windows target checks over the probe's facts (targets/windows/probe.ts): Secure Boot, BitLocker, the BCD debug
 * settings against the inventory, and whether the target's KDNET pokes reach this host and authenticate with the
 * stored key (a passive listen: pokes every ~3 s, radare2's shlr/winkd/iob_net.c and the captures in test/fixtures/kdnet (Lekensteyn/kdnet's windbg-uncut, AeroCTF 2021's kek.pcap); nothing is ever answered).
 * Keys are compared, never printed.
 */
import { netdbgError } from "../core/error.js";
import { parseKdnetKey } from "../core/kdnet-key.js";
import type { PokeSource } from "../engine/kdnet/listen.js";
import { bcdElement, parseBcdBoolean } from "../targets/windows/bcdedit-parse.js";
import type { WindowsFacts } from "../targets/windows/probe.js";
import type { Check, CheckOutcome, DoctorDeps } from "./types.js";
import { fromError, maybe, withFacts } from "./util.js";

const isWindows = (d: DoctorDeps) => d.target?.os === "windows" && d.windowsFacts !== undefined;

export const secureBootCheck: Check = {
  id: "windows.secureboot",
  title: "Secure Boot off",
  needs: "target.ssh",
  applies: isWindows,
  run: (d) =>
    withFacts(d, d.windowsFacts, (f): CheckOutcome => {
      const t = d.target!.name;
      if (f.secureBoot.state === true) return fromError(netdbgError("E201", { target: t }));
      if (f.secureBoot.state === null) return fromError(netdbgError("E217", { target: t }), "warn");
      return {
        status: "ok",
        message: `Secure Boot is off (${f.secureBoot.source}), so Windows accepts 'bcdedit /debug on'.`,
      };
    }),
};

export const bitlockerCheck: Check = {
  id: "windows.bitlocker",
  title: "BitLocker and boot setting changes",
  needs: "target.ssh",
  applies: isWindows,
  run: (d) =>
    withFacts(d, d.windowsFacts, (f): CheckOutcome => {
      // no source answered: "no volume" would be a guess, and setup refuses in this state (E226)
      if (f.bitlockerSource === null) return fromError(netdbgError("E226", { target: d.target!.name }), "warn");
      const on = f.bitlocker.filter((v) => /^(on|1)$/i.test(v.protectionStatus));
      if (!on.length) {
        return {
          status: "ok",
          message: f.bitlocker.length
            ? `BitLocker protection is off on ${f.bitlocker.map((v) => v.mountPoint).join(", ")}.`
            : "No BitLocker volume.",
        };
      }
      return {
        status: "warn",
        message: `BitLocker protects ${on.map((v) => `${v.mountPoint} (${v.volumeStatus})`).join(", ")}: a boot with changed debug settings asks for the recovery key unless the protectors are suspended for it.`,
        // Home with device encryption has no BitLocker cmdlets: manage-bde suspends there as everywhere
        fix: `'netdbg setup ${d.target!.name} --reboot' suspends the protectors for that one reboot; if you reboot by hand, run ${f.bitlockerSource === "Win32_EncryptableVolume" ? `'manage-bde -protectors -disable ${on[0]!.mountPoint} -RebootCount 1'` : `'Suspend-BitLocker -MountPoint ${on[0]!.mountPoint} -RebootCount 1'`} first, and keep the recovery key at hand.`,
      };
    }),
};

function sameKey(a: string, b: string): boolean | undefined {
  try {
    return parseKdnetKey(a).text === parseKdnetKey(b).text;
  } catch {
    return undefined;
  }
}

/** The boot entry running now, and whether it debugs. */
function currentDebug(f: WindowsFacts): { entry: string; debug: boolean | undefined } {
  const cur = f.current;
  const entry = cur ? `${bcdElement(cur, "description") ?? "?"} ${cur.guid ?? cur.identifier}` : "{current}";
  return { entry, debug: cur ? parseBcdBoolean(bcdElement(cur, "debug") ?? "") : undefined };
}

export const bcdCheck: Check = {
  id: "windows.bcd",
  title: "BCD debug settings match the inventory",
  needs: "target.ssh",
  applies: isWindows,
  run: (d) =>
    withFacts(d, d.windowsFacts, async (f): Promise<CheckOutcome> => {
      const t = d.target!;
      if (f.bcdError) {
        return fromError(
          netdbgError("E210", {
            command: "bcdedit /enum",
            exitCode: f.bcdError.exitCode,
            output: f.bcdError.output.trim().slice(0, 300),
            fix: "Run doctor with an administrator account on the target (bcdedit needs one).",
          }),
        );
      }
      const ds = f.dbgsettings;
      if ((ds.debugtype ?? "").toUpperCase() !== "NET") {
        return fromError(
          netdbgError("E709", { target: t.name, differences: `debugtype is ${ds.debugtype ?? "not set"}, not NET` }),
        );
      }
      const expected = d.hostAddress ? await d.hostAddress().catch(() => undefined) : undefined;
      if (expected && ds.hostip && ds.hostip !== expected)
        return fromError(netdbgError("E706", { target: t.name, configured: ds.hostip, expected }));
      const diffs: string[] = [];
      if (t.port !== undefined && ds.port !== t.port) diffs.push(`port is ${ds.port ?? "not set"} (inventory: ${t.port})`);
      if (!ds.hostip) diffs.push("hostip is not set");
      const stored = d.storedKey ? await d.storedKey() : undefined;
      if (stored && ds.key) {
        const same = sameKey(ds.key, stored);
        if (same === false) diffs.push("the key differs from the one stored for it (neither is shown)");
        if (same === undefined) diffs.push("the key in dbgsettings is not a well-formed KDNET key");
      } else if (!ds.key) diffs.push("no key is set");
      if (diffs.length) return fromError(netdbgError("E709", { target: t.name, differences: diffs.join("; ") }));
      const cur = currentDebug(f);
      const entries = f.netdbgEntries.length;
      return {
        status: "ok",
        message: `dbgsettings: NET to ${ds.hostip}:${ds.port}${ds.busparams ? `, busparams ${ds.busparams}` : ""}, and the key matches the stored one. ${cur.debug ? `The running entry debugs.` : `${entries} netdbg debug entr${entries === 1 ? "y" : "ies"}; the running entry ${cur.entry} does not debug.`}`,
      };
    }),
};

/** Default listening time: pokes come every ~3 s, so two chances. */
export const DEFAULT_POKE_LISTEN_MS = 6000;
/**
 * Listening time when nothing points to a target that was set up (no journal, dbgsettings not NET) and its settings
 * could not be read (when they could, and say no poke can come, kdnet.pokes does not listen at all).
 */
export const SHORT_POKE_LISTEN_MS = 1500;

function describeSources(s: readonly PokeSource[]): string {
  return s.map((x) => `${x.from} (${x.pokes} poke${x.pokes === 1 ? "" : "s"}, v${x.version})`).join(", ");
}

export const pokesCheck: Check = {
  id: "kdnet.pokes",
  title: "KDNET pokes arrive and authenticate",
  // it listens on the debug port the firewall check and host.port bind for a moment
  after: ["host.port", "host.firewall"],
  applies: (d) => d.target?.os === "windows" && d.listenPokes !== undefined,
  async run(d): Promise<CheckOutcome> {
    const t = d.target!;
    const port = t.port;
    if (port === undefined) return { status: "skip", message: "The target has no debug port yet (see host.port)." };
    const stored = d.storedKey ? await d.storedKey() : undefined;
    if (!stored) return { status: "skip", message: "No KDNET key is stored (see host.key), so pokes cannot be checked." };
    const facts = await maybe(d, d.windowsFacts);
    const ports = [port];
    const bcdPort = facts?.dbgsettings.port;
    if (bcdPort !== undefined && bcdPort !== port) ports.push(bcdPort);
    const setUp = d.setUp ? await d.setUp().catch(() => true) : true;
    const debugsOverNet = (facts?.dbgsettings.debugtype ?? "").toUpperCase() === "NET";
    // never set up from this host and dbgsettings not NET (when SSH could read them): E714, with what was done about pokes
    const neverSetUp = (pokes: string): CheckOutcome => {
      const e = netdbgError("E714", {
        target: t.name,
        detail: facts ? ", and its dbgsettings do not debug over the network" : "",
      });
      return { ...fromError(e), message: `${e.message} (${pokes})` };
    };
    // the target's own settings say no poke can come (the running entry does not debug either): listening would
    // only add its budget to doctor's time
    if (!setUp && facts && !debugsOverNet && currentDebug(facts).debug !== true && d.pokeListenMs === undefined) {
      return neverSetUp("Not listened for pokes: with these settings none can come.");
    }
    const ms = d.pokeListenMs ?? (setUp || debugsOverNet ? DEFAULT_POKE_LISTEN_MS : SHORT_POKE_LISTEN_MS);
    const seconds = Math.round(ms / 100) / 10;
    const watches = await d.listenPokes!(ports, ms);
    const main = watches.find((w) => w.port === port);
    if (!main || main.busy) {
      return {
        status: "skip",
        message: `UDP port ${port} is busy on this host (a debugger attached?), so doctor could not listen for pokes (see host.port).`,
      };
    }
    const poking = main.sources.filter((s) => s.pokes > 0);
    const good = poking.filter((s) => s.authenticated === true);
    if (good.length) {
      const fromTarget = good.find((s) => s.address === t.address);
      if (!fromTarget) {
        const e = netdbgError("E512", { name: t.name, expected: t.address, seen: good[0]!.address, port });
        return fromError(e, "warn");
      }
      return {
        status: "ok",
        message: `'${t.name}' pokes UDP port ${port} from ${fromTarget.from} (KDNET v${fromTarget.version}) and its pokes authenticate with the stored key.`,
      };
    }
    if (poking.length) {
      const s = poking[0]!;
      const e = netdbgError("E704", { target: t.name, from: s.from, port });
      return { ...fromError(e), message: `${e.message} Seen in ${seconds} s: ${describeSources(poking)}.` };
    }
    if (main.sources.some((s) => s.dataDatagrams > 0)) {
      return {
        status: "warn",
        message: `No poke reached UDP port ${port}, but KDNET data datagrams did: the target is in a session with a debugger (another WinDbg or netdbg connect).`,
        fix: "Close the other debugger first; pokes resume when it detaches.",
      };
    }
    const other = watches.find((w) => w.port !== port && w.sources.some((s) => s.pokes > 0));
    if (other) return fromError(netdbgError("E705", { target: t.name, port, other: other.port }));
    // Nothing arrived: name the cause the target's own settings show, when SSH could read them.
    if (!setUp && !debugsOverNet) return neverSetUp(`Listened ${seconds} s for pokes: none.`);
    if (facts) {
      const expected = d.hostAddress ? await d.hostAddress().catch(() => undefined) : undefined;
      const ds = facts.dbgsettings;
      if (expected && ds.hostip && ds.hostip !== expected)
        return fromError(netdbgError("E706", { target: t.name, configured: ds.hostip, expected }));
      if (ds.port !== undefined && ds.port !== port)
        return fromError(netdbgError("E705", { target: t.name, port, other: ds.port }));
      const cur = currentDebug(facts);
      if (cur.debug !== true) return fromError(netdbgError("E707", { target: t.name, entry: cur.entry }));
    }
    const e = netdbgError("E708", { target: t.name, port, seconds });
    return facts
      ? fromError(e)
      : { ...fromError(e), message: `${e.message} (The target's settings could not be read over SSH to say why.)` };
  },
};
