/**
 * `netdbg setup` with no target: the wizard. Cheap checks run before any question (the inventory parses, the
 * state and key directories are usable); then it asks ONLY what flags, the inventory and --config do not say:
 * which target (or a new one: name, address, SSH user and key, OS detected over SSH when possible), the NIC
 * (the target's own list, each with its verdict), the host port (a free one suggested), the KDNET key
 * (reuse the stored one or generate a new one), Windows options (NO_KDNIC, reboot now) and Linux options
 * (kgdboe source, persist). Every question goes through the Prompter (src/cli/prompts.ts); without a TTY
 * nothing is asked and E002 names the flags to pass.
 */
import { mkdir } from "node:fs/promises";
import { isNetdbgError, netdbgError } from "../core/error.js";
import { addressProblem, isValidAddress, type Target, TARGET_NAME } from "../core/inventory.js";
import { generateKdnetKey } from "../core/kdnet-key.js";
import type { RemoteSession } from "../core/interfaces.js";
import { allocatePort, parsePort } from "../host/port-alloc.js";
import { connectSsh } from "../io/ssh.js";
import { isUdpPortFree } from "../io/port-probe.js";
import { parseNics, PROBE } from "../targets/linux/probe.js";
import { DEFAULT_KGDBOE_GIT } from "../targets/linux/paths.js";
import { DEFAULT_EXPORT_DIR, probeWindows, selectNic, sessionRunner } from "../targets/windows/index.js";
import type { Context } from "./context.js";
import { confirmHostKey, type Prompter } from "./prompts.js";

export interface WizardDeps {
  /** The SSH session to a target (default: ssh2 with the inventory's settings). */
  openSession?: (target: Target) => Promise<RemoteSession>;
  isFree?: (port: number) => Promise<boolean>;
}

/** Where a flag was given: commander's "cli" / "env" / "config", or "default" / undefined when not. */
export type OptionSource = (flag: string) => string | undefined;

const given = (source: OptionSource, flag: string) => {
  const s = source(flag);
  return s !== undefined && s !== "default";
};

/** Cheap checks: fail before the first question, never after the fifth. */
async function cheapChecks(ctx: Context): Promise<void> {
  await ctx.inventory.load(); // a damaged inventory says so now (E00x with its fix)
  await mkdir(ctx.paths.journals, { recursive: true, mode: 0o700 }).catch((e: Error) => {
    throw netdbgError("E010", { store: "state", op: "create the journal directory", reason: e.message, dir: ctx.paths.journals });
  });
  await ctx.secrets.get("netdbg-wizard-check"); // the key store is readable (E010/E011 otherwise)
}

async function defaultOpenSession(ctx: Context, target: Target): Promise<RemoteSession> {
  return connectSsh({
    target,
    acceptNewHostKey: false,
    logger: ctx.log,
    confirmHostKey,
  });
}

/** `uname -s` over SSH: "Linux" → linux; a shell that does not know uname (cmd.exe, PowerShell) → windows. */
export async function detectOs(session: RemoteSession): Promise<"linux" | "windows" | undefined> {
  try {
    const r = await session.exec("uname -s", { timeoutMs: 15_000 });
    if (r.exitCode === 0 && /^Linux\b/m.test(r.stdout)) return "linux";
    if (
      r.exitCode !== 0 &&
      /not recognized|CommandNotFoundException|ObjectNotFound|is not recognized/i.test(`${r.stdout}${r.stderr}`)
    )
      return "windows";
    return r.exitCode !== 0 ? "windows" : undefined;
  } catch {
    return undefined;
  }
}

/**
 * SSH to the target failed (NETDBG-E8xx: refused, timed out, host key, authentication): every later question
 * would be wasted, since setup needs that SSH. Say so and stop with the SSH error, which carries its fix.
 */
function stopOnSshFailure(ctx: Context, e: unknown, what: string): void {
  if (isNetdbgError(e) && /^NETDBG-E8\d\d$/.test(e.code)) {
    ctx.log.warn(`SSH to ${what} failed, so the wizard stops here: setup needs it. Fix SSH, then run the wizard again.`);
    throw e;
  }
}

/** The wizard's first part: who the target is (recorded in the inventory). */
async function whichTarget(ctx: Context, ask: Prompter, source: OptionSource, deps: WizardDeps): Promise<Target> {
  const inv = await ctx.inventory.load();
  const NEW = "\u0000new";
  if (inv.targets.length) {
    const pick = await ask.select({
      flag: "target",
      message: "Which target?",
      choices: [
        ...inv.targets.map((t) => ({ value: t.name, name: `${t.name} (${t.os}, ${t.address})` })),
        { value: NEW, name: "a new target…" },
      ],
    });
    if (pick !== NEW) return ctx.inventory.get(pick);
  }
  const name = await ask.input({
    flag: "target",
    message: "Name for the new target",
    validate: (v) =>
      (TARGET_NAME.test(v) && !inv.targets.some((t) => t.name === v)) ||
      "1–63 letters, digits, '.', '_' or '-', not already used",
  });
  const address = await ask.input({
    flag: "address",
    message: "Its address (IPv4, IPv6 or DNS name)",
    validate: (v) => isValidAddress(v) || `not an address or DNS name: ${addressProblem(v)}`,
  });
  const user = await ask.input({
    flag: "ssh-user",
    message: "SSH user on the target (Windows: an administrator)",
    default: "root",
  });
  const identity = await ask.input({
    flag: "identity-file",
    message: "SSH private key (empty: ssh-agent / ~/.ssh defaults)",
    default: "",
  });
  const ssh = { user, ...(identity ? { identityFile: identity } : {}) };
  // the OS, detected over SSH when the target answers; asked only when it cannot be told
  let os: "linux" | "windows" | undefined;
  if (!given(source, "os")) {
    try {
      const s = await (deps.openSession ?? ((t) => defaultOpenSession(ctx, t)))({ name, os: "linux", address, ssh });
      try {
        os = await detectOs(s);
      } finally {
        await s.close();
      }
    } catch (e) {
      stopOnSshFailure(ctx, e, `${address} (nothing was recorded for '${name}')`);
      ctx.log.warn(`Could not detect the OS of ${address} over SSH: ${(e as Error).message}`);
    }
    if (os) ctx.log.info(`Detected over SSH: '${name}' runs ${os === "linux" ? "Linux" : "Windows"}.`);
  }
  os ??= await ask.select({
    flag: "os",
    message: "Its operating system",
    choices: [{ value: "windows" as const }, { value: "linux" as const }],
  });
  const isFree = deps.isFree ?? isUdpPortFree;
  const suggested = await allocatePort(inv, isFree, name);
  const portText = await ask.input({
    flag: "port",
    message: "Host UDP port for its debug traffic (a free one is suggested)",
    default: String(suggested),
    validate: (v) => {
      try {
        parsePort(v);
        return inv.targets.some((t) => t.port === Number(v)) ? "another target uses it" : true;
      } catch (e) {
        return (e as Error).message;
      }
    },
  });
  const port = parsePort(portText);
  return ctx.inventory.update((i) => {
    const t: Target = { name, os: os!, address, ssh, port };
    i.targets.push(t);
    return t;
  });
}

/** The NIC question: the target's own list, each with its verdict; the one setup would pick is the default. */
async function whichNic(ask: Prompter, target: Target, session: RemoteSession): Promise<string | undefined> {
  if (target.os === "windows") {
    const facts = await probeWindows(sessionRunner(session, target.name), { exportDir: DEFAULT_EXPORT_DIR });
    if (facts.nics.length === 0) return undefined;
    let pick: string | undefined;
    try {
      pick = selectNic(facts, { target: target.name }).name;
    } catch {
      // no usable NIC: the list still shows why each one is not
    }
    return ask.select({
      flag: "nic",
      message: "Which NIC carries the debug traffic? (KDNET drives it alone while the kernel debugs)",
      ...(pick ? { default: pick } : {}),
      choices: facts.nics.map((n) => ({
        value: n.name,
        name: `${n.name} — ${n.interfaceDescription}${n.busparams ? ` (PCI ${n.busparams})` : ""}: ${
          n.supported ? "supported" : `not supported${n.unsupportedReason ? `: ${n.unsupportedReason}` : ""}`
        }${n.connected ? "" : ", not connected"}`,
      })),
    });
  }
  const r = await session.exec(PROBE.nics, { timeoutMs: 15_000 });
  const nics = parseNics(r.stdout).filter((n) => !n.flags.includes("loopback"));
  if (nics.length === 0) return undefined;
  const verdict = (flags: string[], ipv4?: string) => {
    const bad = flags.filter((f) => f !== "virtual");
    if (bad.length) return `not usable: ${bad.join(", ")}`;
    if (!ipv4) return "not usable: no IPv4 address";
    return flags.includes("virtual") ? "virtual device (usable only if netpoll supports it)" : "usable";
  };
  const usable = nics.find((n) => verdict(n.flags, n.ipv4) === "usable");
  return ask.select({
    flag: "nic",
    message: "Which NIC carries the debug traffic? (netpoll drives it while the kernel is stopped)",
    ...(usable ? { default: usable.name } : {}),
    choices: nics.map((n) => ({
      value: n.name,
      name: `${n.name} (${n.driver}${n.ipv4 ? `, ${n.ipv4}` : ""}): ${verdict(n.flags, n.ipv4)}`,
    })),
  });
}

/** The setup options the wizard asks for (what a flag, the inventory or --config did not already say). */
export interface WizardAnswers {
  nic?: string;
  kdnic?: boolean;
  reboot?: boolean;
  kgdboeSource?: string;
  persist?: boolean;
}

/**
 * The whole wizard: returns the target and the options setup runs with (the flags given, passed through
 * untouched, plus the answers). `source` says which flags were given on the command line (commander's
 * getOptionValueSource).
 */
export async function runWizard<F extends object>(
  ctx: Context,
  ask: Prompter,
  flags: F,
  source: OptionSource,
  deps: WizardDeps = {},
): Promise<{ target: Target; opts: F & WizardAnswers }> {
  await cheapChecks(ctx);
  const target = await whichTarget(ctx, ask, source, deps);
  const out: WizardAnswers = {};
  if (!given(source, "nic") && !target.transport?.nic) {
    try {
      const session = await (deps.openSession ?? ((t) => defaultOpenSession(ctx, t)))(target);
      try {
        const nic = await whichNic(ask, target, session);
        if (nic) out.nic = nic;
      } finally {
        await session.close();
      }
    } catch (e) {
      if ((e as { code?: string }).code === "NETDBG-E014") throw e; // the user cancelled
      stopOnSshFailure(ctx, e, `'${target.name}'`);
      ctx.log.warn(`Could not list the NICs of '${target.name}' (setup picks one itself): ${(e as Error).message}`);
    }
  }
  if (target.os === "windows") {
    const stored = await ctx.secrets.get(target.name);
    if (stored !== undefined) {
      const choice = await ask.select({
        flag: "key",
        message: "KDNET key",
        default: "reuse" as const,
        choices: [
          { value: "reuse" as const, name: "reuse the stored key" },
          { value: "new" as const, name: "generate a new one (a debugger holding the old key stops working)" },
        ],
      });
      if (choice === "new") await ctx.secrets.set(target.name, generateKdnetKey().text);
    } else ctx.log.info(`No KDNET key is stored for '${target.name}': setup generates one and stores it.`);
    if (!given(source, "kdnic"))
      out.kdnic = !(await ask.confirm({
        flag: "no-kdnic",
        message: "Add NO_KDNIC (Windows then leaves the debug NIC to the debugger: no network for Windows on it)?",
        default: false,
      }));
    if (!given(source, "reboot"))
      out.reboot = await ask.confirm({ flag: "reboot", message: "Restart the target into the debug entry now?", default: false });
  } else {
    if (!given(source, "kgdboeSource") && !target.transport?.kgdboeSource)
      out.kgdboeSource = await ask.input({
        flag: "kgdboe-source",
        message: "kgdboe source (git URL, local directory or tarball)",
        default: DEFAULT_KGDBOE_GIT,
      });
    if (!given(source, "persist"))
      out.persist = await ask.confirm({ flag: "persist", message: "Load kgdboe at every boot (systemd unit)?", default: false });
  }
  return { target, opts: { ...flags, ...out } };
}
