/**
 * CLI glue for `netdbg setup|teardown <linux target>`: flags → config, the real adapters (ssh2 session, file
 * journal, templates, host-side git fallback), listr2 progress, `--check` printing every command, `--json`.
 * The work itself is src/targets/linux (probe / plan / apply / verify / teardown).
 */
import { hostKeyQuestion } from "../prompts.js";
import { confirm, password } from "@inquirer/prompts";
import { execa } from "execa";
import { Listr } from "listr2";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, relative, sep } from "node:path";
import { netdbgError } from "../../core/error.js";
import type { Target } from "../../core/inventory.js";
import { systemClock, type RemoteSession } from "../../core/ports.js";
import { probeSudo } from "../../core/remote.js";
import { FileJournalStore } from "../../io/journal-store.js";
import { connectSsh } from "../../io/ssh.js";
import type { LinuxTemplates } from "../../targets/linux/plan.js";
import { DEFAULT_KGDBOE_GIT, DEFAULT_UDP_PORT } from "../../targets/linux/paths.js";
import type { TranscriptEntry } from "../../targets/linux/remote.js";
import {
  type LinuxSetupDeps,
  type LinuxSetupResult,
  type LinuxTeardownResult,
  setupHeadline,
  setupLinuxTarget,
  teardownLinuxTarget,
} from "../../targets/linux/setup.js";
import type { KgdboeSource, SourceFile } from "../../targets/linux/source.js";
import type { JournalStore } from "../../core/journal.js";
import type { Context } from "../context.js";
import { type ConnectOptions, runLinuxConnect } from "../debugger/linux-connect.js";
import {
  type HostFirewallPort,
  type HostFirewallResult,
  handoffLines,
  type JourneyAction,
  type JourneyJson,
  openHostFirewall,
  printHostActions,
  recordJourneyFacts,
  systemHostFirewall,
  type TargetTeardownResult,
} from "../journey.js";
import { rspCheckUdp } from "./linux-rsp-check.js";

/** Seams for tests: the session opener (default ssh2) and the journal dir. */
export interface LinuxCliDeps {
  openSession?: (target: Target, opts: Record<string, unknown>) => Promise<RemoteSession>;
  /** The journal store (default: one file per target in the state dir). */
  journalStore?: (ctx: Context) => JournalStore;
  /** This machine's firewall (default: the real one). Tests run its commands inside a network namespace. */
  firewall?: HostFirewallPort;
  /** The hand-off (default: `netdbg connect`, attaching with the RSP engine). */
  connect?: (ctx: Context, target: Target, opts: Record<string, unknown>) => Promise<void>;
  /** The RSP check after loading (default: rspCheckUdp from this host). */
  rspCheck?: LinuxSetupDeps["rspCheck"];
}

const storeOf = (ctx: Context, deps: LinuxCliDeps): JournalStore =>
  deps.journalStore?.(ctx) ?? new FileJournalStore(ctx.paths.journals);

const MAX_SOURCE_BYTES = 32 * 1024 * 1024;

/**
 * netdbg's own kgdboe-compatible module (assets/kgdboe-compat, shipped in the package): kgdboe's parameters
 * and log lines, GDB remote protocol over UDP. The lab and the demo build it where upstream cannot be fetched.
 */
export const BUNDLED_KGDBOE_SOURCE = new URL("../../../assets/kgdboe-compat", import.meta.url).pathname;

function templatesDir(): string {
  return new URL("../../../templates/linux/", import.meta.url).pathname;
}

export function loadTemplates(): LinuxTemplates {
  const d = templatesDir();
  return {
    unit: readFileSync(join(d, "netdbg-kgdboe.service"), "utf8"),
    env: readFileSync(join(d, "kgdboe.env"), "utf8"),
    loader: readFileSync(join(d, "kgdboe-load.sh"), "utf8"),
  };
}

async function readTree(dir: string): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  let total = 0;
  async function walk(d: string): Promise<void> {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.name === ".git" || e.name.endsWith(".ko") || e.name.endsWith(".o")) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const content = await readFile(p);
        total += content.length;
        if (total > MAX_SOURCE_BYTES)
          throw netdbgError("E311", { source: dir, reason: `it is larger than ${MAX_SOURCE_BYTES >> 20} MiB` });
        const mode = (await stat(p)).mode & 0o777;
        out.push({ path: relative(dir, p).split(sep).join("/"), content, mode });
      }
    }
  }
  await walk(dir);
  return out;
}

/** The commit of a local checkout, read from .git without running git (HEAD → ref → packed-refs). */
function gitCommitOf(dir: string): string | undefined {
  try {
    const head = readFileSync(join(dir, ".git", "HEAD"), "utf8").trim();
    if (/^[0-9a-f]{40}$/.test(head)) return head;
    const ref = /^ref: (.+)$/.exec(head)?.[1];
    if (!ref) return undefined;
    const loose = join(dir, ".git", ref);
    if (existsSync(loose)) return readFileSync(loose, "utf8").trim();
    const packed = readFileSync(join(dir, ".git", "packed-refs"), "utf8");
    return new RegExp(`^([0-9a-f]{40}) ${ref.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m").exec(packed)?.[1];
  } catch {
    return undefined;
  }
}

/** --kgdboe-source: a local directory, a local tarball, a git URL (default: upstream, cloned on the target), or
 * 'bundled' (netdbg's own module, for NICs without a poll controller). */
export async function resolveKgdboeSource(spec: string | undefined): Promise<KgdboeSource> {
  const s = spec === "bundled" ? BUNDLED_KGDBOE_SOURCE : (spec ?? DEFAULT_KGDBOE_GIT);
  if (existsSync(s)) {
    const st = await stat(s);
    if (st.isDirectory()) {
      const commit = gitCommitOf(s);
      return { kind: "files", label: s, files: await readTree(s), ...(commit ? { commit } : {}) };
    }
    if (/\.(tar|tar\.gz|tgz|tar\.xz|tar\.bz2)$/.test(s))
      return { kind: "tarball", label: s, name: basename(s), content: new Uint8Array(await readFile(s)) };
    throw netdbgError("E311", { source: s, reason: "it is a file but not a .tar, .tar.gz, .tgz, .tar.xz or .tar.bz2 archive" });
  }
  if (/^(https?:\/\/|ssh:\/\/|git:\/\/|file:\/\/|[\w.-]+@[\w.-]+:)/.test(s)) return { kind: "git", url: s };
  throw netdbgError("E311", { source: s, reason: "no such file or directory, and not a git URL" });
}

/** Host-side fallback: clone on this machine, then upload the files. */
async function hostClone(url: string): Promise<KgdboeSource> {
  const dir = await mkdtemp(join(tmpdir(), "netdbg-kgdboe-"));
  try {
    const r = await execa("git", ["clone", "--depth", "1", "--", url, join(dir, "src")], { reject: false, timeout: 120_000 });
    if (r.exitCode !== 0) throw new Error((r.stderr || r.message || "git clone failed").toString());
    const commit = (await execa("git", ["-C", join(dir, "src"), "rev-parse", "HEAD"])).stdout.trim();
    return { kind: "files", label: `${url} (cloned on this host)`, files: await readTree(join(dir, "src")), commit };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function openSsh(ctx: Context, target: Target, opts: Record<string, unknown>): Promise<RemoteSession> {
  return connectSsh({
    target,
    acceptNewHostKey: Boolean(opts.acceptNewHostKey),
    recordHostKey: !opts.check,
    logger: ctx.log,
    ...(ctx.isTTY && !ctx.opts.json
      ? {
          confirmHostKey: (p) => confirm({ message: hostKeyQuestion(p), default: false }),
        }
      : {}),
  });
}

/**
 * The sudo password, asked once on the terminal BEFORE the progress display starts: listr2's renderer
 * holds back everything written to stdout/stderr while it runs, so a prompt inside a task would be invisible.
 * Only asked when the target's sudo really wants one (the same probe elevate() runs); without a terminal
 * (CI, --json) nothing is asked and elevate() stops with NETDBG-E811.
 */
async function sudoPrompt(ctx: Context, session: RemoteSession): Promise<(() => Promise<string>) | undefined> {
  if (!ctx.isTTY || ctx.opts.json) return undefined;
  const { mode } = await probeSudo(session);
  if (mode !== "password") return undefined;
  const pw = await password({ message: "sudo password on the target:", mask: "*" });
  ctx.secretsSeen.push(pw);
  return async () => pw;
}

function parseForceSingleCore(v: unknown): 0 | 1 {
  if (v === undefined) return 1;
  if (v === "0" || v === 0) return 0;
  if (v === "1" || v === 1) return 1;
  throw netdbgError("E313", {
    option: "--force-single-core",
    value: String(v),
    reason: "it must be 0 or 1",
    fix: "Pass --force-single-core 1 (default, safer) or 0.",
  });
}

function refuseWindowsOnly(opts: Record<string, unknown>): void {
  for (const [flag, key] of [
    ["--no-kdnic", "kdnic"],
    ["--make-default", "makeDefault"],
    ["--reboot", "reboot"],
  ] as const) {
    const v = opts[key];
    if ((key === "kdnic" && v === false) || (key !== "kdnic" && v))
      throw netdbgError("E313", {
        option: flag,
        value: "set",
        reason: "it applies to Windows targets only",
        fix: `Drop ${flag}.`,
      });
  }
}

function printCommands(ctx: Context, commands: readonly { step: string; command: string; readOnly: boolean }[]): void {
  for (const c of commands) ctx.out(`  # ${c.step}\n  ${c.command.split("\n").join("\n  ")}`);
}

function printCheck(ctx: Context, r: LinuxSetupResult): void {
  ctx.out(`Read-only probe commands sent to ${r.target} (they change nothing):`);
  printCommands(ctx, r.commands);
  ctx.out("");
  ctx.out(`Plan for ${r.target} (kernel ${r.kernel}, NIC ${r.nic}, UDP ${r.udpPort}) — nothing below was run:`);
  for (const a of r.actions) {
    ctx.out(`  [${a.outcome === "unchanged" ? "unchanged" : "would run"}] ${a.title}`);
    ctx.out(`    ${a.command.split("\n").join("\n    ")}`);
    if (a.undo) ctx.out(`    undo: ${a.undo}`);
  }
  printNotes(ctx, r);
}

function printNotes(ctx: Context, r: { warnings: string[]; advice: string[] }): void {
  for (const w of r.warnings) ctx.log.warn(w);
  for (const a of r.advice) ctx.out(`advice: ${a}`);
}

function phaseTitle(target: string, phase: string): string {
  return {
    probe: `Probe ${target}`,
    plan: `Plan ${target}`,
    apply: `Apply changes to ${target}`,
    verify: `Verify kgdboe on ${target}`,
  }[phase]!;
}

async function withProgress<T>(
  ctx: Context,
  target: string,
  title: string,
  quiet: boolean,
  run: (hooks: Pick<LinuxSetupDeps, "onPhase" | "onAction" | "onCommand">) => Promise<T>,
): Promise<T> {
  let result: T | undefined;
  const list = new Listr(
    [
      {
        title,
        task: async (_c, task) => {
          result = await run({
            onPhase: (p) => {
              task.title = phaseTitle(target, p);
            },
            onAction: (a, rep) => {
              // the Windows setup's word order: "<action>…" while it runs, "<action>: <outcome>" after, "undo <action>"
              const title = a.title.replace(/^undo: /, "undo ");
              task.output = rep ? `${title}: ${rep.outcome === "skipped" ? "would run" : rep.outcome}` : `${title}…`;
            },
            onCommand: (e: TranscriptEntry) => {
              ctx.log.debug(`${e.readOnly ? "read" : "run"} [${e.step}] ${e.command}`);
            },
          });
          task.title = `${title}: done`;
        },
      },
    ],
    {
      renderer: "default",
      fallbackRenderer: "simple",
      silentRendererCondition: quiet,
      fallbackRendererCondition: !process.stderr.isTTY,
      exitOnError: true,
      registerSignalListeners: false,
      rendererOptions: { collapseErrors: false },
    },
  );
  await list.run();
  return result as T;
}

export async function linuxSetup(
  ctx: Context,
  target: Target,
  opts: Record<string, unknown>,
  deps: LinuxCliDeps = {},
): Promise<void> {
  refuseWindowsOnly(opts);
  const check = Boolean(opts.check);
  const forceSingleCore = parseForceSingleCore(opts.forceSingleCore);
  const source = await resolveKgdboeSource((opts.kgdboeSource as string | undefined) ?? target.transport?.kgdboeSource);
  const persist = Boolean(opts.persist);
  const store = storeOf(ctx, deps);
  const hostIp = (opts.hostIp as string | undefined) ?? target.transport?.hostIp;
  const port = target.port;
  if (!check) await recordJourneyFacts(store, target, { ...(port !== undefined ? { port } : {}), ...(hostIp ? { hostIp } : {}) });
  // The host firewall opens first (host-only, journaled): a later failure rolls it back.
  let fw: HostFirewallResult | undefined;
  let fwNote: string | undefined;
  // why it is left alone: the caller's reason (the demo: loopback), else the flag the user gave
  const reason = (opts as { hostFirewallReason?: unknown }).hostFirewallReason;
  if (opts.hostFirewall === false)
    fwNote = `Host firewall: left alone (${typeof reason === "string" ? reason : "--no-host-firewall"}).`;
  else if (port === undefined)
    fwNote = `Host firewall: left alone ('${target.name}' has no fixed host port, so netdbg's replies come back on an ephemeral port that connection tracking admits).`;
  else fw = await openHostFirewall({ target, port, store, check, firewall: deps.firewall ?? systemHostFirewall() });
  const rollbackFirewall = async () => {
    for (const m of (await fw?.rollback()) ?? []) ctx.log.error(m);
    if (fw?.actions.some((a) => a.outcome === "changed"))
      ctx.log.warn(`The host firewall rule opened for '${target.name}' was closed again (the target part failed).`);
  };
  let session: RemoteSession;
  try {
    session = await (deps.openSession ?? ((t, o) => openSsh(ctx, t, o)))(target, opts);
  } catch (e) {
    await rollbackFirewall();
    throw e;
  }
  try {
    const nic = (opts.nic as string | undefined) ?? target.transport?.nic;
    const sudoPassword = await sudoPrompt(ctx, session);
    const quiet = Boolean(ctx.opts.json) || check;
    let result: LinuxSetupResult;
    try {
      result = await withProgress(ctx, target.name, `Set up ${target.name}`, quiet, (hooks) =>
        setupLinuxTarget(
          {
            target: target.name,
            address: target.address,
            check,
            ...(hostIp ? { hostIp } : {}),
            ...(opts.rspVerify === false ? { rspVerify: false } : {}),
            config: {
              ...(nic ? { nic } : {}),
              udpPort: target.transport?.targetPort ?? DEFAULT_UDP_PORT,
              forceSingleCore,
              installDeps: Boolean(opts.installDeps),
              persist,
              applyCmdline: Boolean(opts.applyCmdline),
              source,
              ...(persist ? { templates: loadTemplates() } : {}),
            },
          },
          {
            session,
            store,
            clock: systemClock,
            hostFetch: hostClone,
            // the RSP check binds the target's host port (--port was checked and saved by setup's port step), so
            // the host firewall rule opened above names it
            rspCheck: deps.rspCheck ?? ((ep) => rspCheckUdp(ep, port !== undefined ? { localPort: port } : {})),
            ...(sudoPassword ? { sudoPassword } : {}),
            ...hooks,
          },
        ),
      );
    } catch (e) {
      await rollbackFirewall();
      throw e;
    }
    const gdb = `target remote udp:${target.address}:${result.udpPort}`;
    const lines = handoffLines("linux", {
      port: port ?? 0,
      address: target.address,
      targetPort: result.udpPort,
      showSecrets: false,
    });
    // attach only with a terminal to type at: a script or CI gets the lines (and the kernel is not stopped)
    const attach = !check && opts.connect === true && !ctx.opts.json && ctx.isTTY;
    if (ctx.opts.json) {
      const obj: JourneyJson & Record<string, unknown> = {
        ...result,
        target: target.name,
        os: "linux",
        check,
        changed: result.changed || Boolean(fw?.actions.some((a) => a.outcome === "changed")),
        hostIp: hostIp ?? null,
        port: port ?? null,
        key: null,
        actions: [
          ...(fw?.actions ?? []),
          ...result.actions.map(
            (a): JourneyAction => ({ ...a, where: "target", outcome: a.outcome as JourneyAction["outcome"] }),
          ),
        ],
        hostFirewall: fw
          ? { frontEnds: fw.plan.frontEnds, summary: fw.summary, request: fw.req }
          : { frontEnds: [], summary: fwNote ?? "", request: null },
        handoff: { gdb: lines.gdb!, connect: false },
        gdb: check ? undefined : gdb,
      };
      ctx.json(obj);
      return;
    }
    ctx.out(fw ? fw.summary : fwNote!);
    if (fw) printHostActions(ctx, fw.actions, check);
    if (check) {
      printCheck(ctx, result);
      return;
    }
    for (const line of setupHeadline(target.name, result)) ctx.out(line);
    ctx.out(
      `  kernel ${result.kernel}, NIC ${result.nic}, UDP port ${result.udpPort}, force_single_core=${result.forceSingleCore}`,
    );
    if (result.verified?.udpTarget)
      ctx.out(`  kgdboe says: target remote udp:${result.verified.udpTarget.host}:${result.verified.udpTarget.port}`);
    const rsp = result.verified?.rsp;
    if (rsp?.outcome === "verified")
      ctx.out(
        `  verified by RSP: ${rsp.endpoint} answered the break-in (stop ${rsp.stop}${rsp.pc ? `, pc ${rsp.pc}` : ""}${rsp.roundTripMs !== undefined ? `, round trip ${rsp.roundTripMs} ms` : ""}) and detached; the kernel runs on`,
      );
    else if (rsp?.outcome === "skipped") ctx.out(`  RSP check skipped (${rsp.reason})`);
    // no-answer / not-detached: a coded warning in result.warnings (printed below)
    if (result.commit) ctx.out(`  kgdboe source ${result.source} (commit ${result.commit})`);
    printNotes(ctx, result);
    if (attach) {
      ctx.out(`Attaching: netdbg connect ${target.name}`);
      await (deps.connect ?? ((c, t, o) => runLinuxConnect(c, t, o as ConnectOptions)))(ctx, target, {});
      return;
    }
    ctx.out(`Then attach:  netdbg connect ${target.name}`);
    ctx.out(`     or gdb:  ${lines.gdb}`);
  } finally {
    await session.close();
  }
}

/** `netdbg teardown <linux-target>`, run alone: the undo, then its `--json` object. */
export async function linuxTeardown(
  ctx: Context,
  target: Target,
  opts: Record<string, unknown>,
  deps: LinuxCliDeps = {},
): Promise<TargetTeardownResult> {
  const r = await linuxTeardownResult(ctx, target, opts, deps);
  if (ctx.opts.json) ctx.json(r);
  return r;
}

/** Undo the journal's target entries; prints the text lines (none with --json) and returns the result as data. */
export async function linuxTeardownResult(
  ctx: Context,
  target: Target,
  opts: Record<string, unknown>,
  deps: LinuxCliDeps = {},
): Promise<TargetTeardownResult> {
  if (opts.restoreExport !== undefined)
    throw netdbgError("E313", {
      option: "--restore-export",
      value: String(opts.restoreExport),
      reason: "it applies to Windows targets only",
      fix: "Drop --restore-export.",
    });
  const check = Boolean(opts.check);
  const session = await (deps.openSession ?? ((t, o) => openSsh(ctx, t, o)))(target, opts);
  try {
    const sudoPassword = await sudoPrompt(ctx, session);
    const result: LinuxTeardownResult = await withProgress(
      ctx,
      target.name,
      `Tear down ${target.name}`,
      Boolean(ctx.opts.json) || check,
      (hooks) =>
        teardownLinuxTarget(
          { target: target.name, check },
          {
            session,
            store: storeOf(ctx, deps),
            clock: systemClock,
            ...(sudoPassword ? { sudoPassword } : {}),
            ...hooks,
          },
        ),
    );
    if (ctx.opts.json) return result;
    if (check) {
      ctx.out(`Undo plan for ${target.name}, newest first — nothing below was run:`);
      for (const a of result.actions) ctx.out(`  [would run] ${a.title}\n    ${a.command}`);
      return result;
    }
    ctx.out(
      result.actions.length
        ? `${target.name}: ${result.actions.length} recorded change${result.actions.length === 1 ? "" : "s"} undone; the journal is removed.`
        : `${target.name}: nothing to undo (no recorded changes).`,
    );
    return result;
  } finally {
    await session.close();
  }
}
