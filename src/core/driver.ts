/**
 * The one interface every OS driver (src/targets/<os>/driver.ts) implements, and the shapes the setup /
 * teardown sequence (src/journey) passes through it. Types only: the sequence is written once in src/journey,
 * each driver does its OS's part (open its link, probe, plan, apply, verify, undo) and returns data; src/cli
 * renders that data as text, progress or `--json`.
 */
import type { Target } from "./inventory.js";
import type { JournalStore } from "./journal.js";
import type { Clock, InventoryPort, Logger, RemoteSession } from "./interfaces.js";
import type { ActionOutcome, Where } from "./step.js";

/** One line of the final report, both OSes, host and target alike. */
export interface JourneyAction {
  id: string;
  title: string;
  where: Where;
  outcome: ActionOutcome;
  command: string;
  undo?: string | null;
}

/** One command sent to a target (read-only probes included). */
export interface CommandEvent {
  step: string;
  command: string;
  readOnly: boolean;
}

/** The one hook set of a driver's progress: the current phase's title, and one line per action or wait. */
export interface ProgressHooks {
  /** The phase now running ("Probe lab", "Restart 'win' into the debug entry…"). */
  phase(title: string): void;
  /** A line under the phase ("<action>…", "<action>: changed", "waiting for SSH…"). */
  line(text: string): void;
  /** Every command sent to the target (debug log). */
  command?(e: CommandEvent): void;
}

/**
 * How a driver shows progress: `run` executes inside the display (a listr2 task in the CLI). A driver opens its
 * link and asks what must be asked (a host key, a sudo password) BEFORE it starts the display: a running
 * display holds back what is written meanwhile, so a question asked inside it would be invisible.
 */
export type Progress = <T>(title: string, run: (hooks: ProgressHooks) => Promise<T>) => Promise<T>;

/** Why a test or the demo opens sessions differently: the opener every driver uses for SSH. */
export type SessionOpener = (target: Target, o: { acceptNewHostKey: boolean; check: boolean }) => Promise<RemoteSession>;

/** How netdbg reaches a Windows target: SSH, or Invoke-Command (--via winrm) with its account (a PSCredential
 * file, or a user and the password asked before the run; none: this host's own logon). */
export interface WindowsLink {
  via: "ssh" | "winrm";
  winrm?: { file: string } | { user: string; password: string };
}

/** What setup and teardown requests share: check mode, and how the target is reached. */
export interface LinkRequest {
  check: boolean;
  acceptNewHostKey: boolean;
  windows: WindowsLink;
}

/** The setup request, parsed once from the command's flags (src/cli/options.ts). */
export interface SetupRequest extends LinkRequest {
  port?: number;
  hostIp?: string;
  nic?: string;
  force: boolean;
  /** false: leave this host's firewall alone; `hostFirewallReason` says why (default: the flag). */
  hostFirewall: boolean;
  hostFirewallReason?: string;
  windows: WindowsLink & { kdnic: boolean; makeDefault: boolean; reboot: boolean; bitlockerUnknownOk: boolean };
  linux: {
    kgdboeSource?: string;
    installDeps: boolean;
    persist: boolean;
    applyCmdline: boolean;
    forceSingleCore: 0 | 1;
    rspVerify: boolean;
  };
}

/** The teardown request. */
export interface TeardownRequest extends LinkRequest {
  /** Windows: restore this exported BCD store instead of replaying the journal. */
  restoreExport?: string;
}

/** What the sequence has settled before the driver runs. */
export interface DriverSetupInput {
  target: Target;
  request: SetupRequest;
  /** The host UDP port (the port step's). */
  port: number;
  /** The address the target sends to (flag, inventory, or the route's local end); absent when none was found. */
  hostIp?: string;
  /** The KDNET key (drivers with `usesKey`), already parsed and added to the secrets every output is scrubbed of. */
  key?: string;
  now: Date;
  /** What the driver's `prepare` returned for this target. */
  prepared?: unknown;
}

/**
 * What the sequence gives every driver: its journal, its SSH opener, its clock and log. The ports only one OS
 * needs (WinRM's PowerShell, the poke watch, the kgdboe source, the RSP check) are given to that driver's
 * factory by the composition root (src/cli/journey-deps.ts).
 */
export interface DriverDeps {
  store: JournalStore;
  clock: Clock;
  log: Logger;
  inventory: InventoryPort;
  openSession: SessionOpener;
  /** The target asks for a sudo password (Linux): asked once before progress starts, undefined without a terminal. */
  sudoPassword?: (session: RemoteSession) => Promise<(() => Promise<string>) | undefined>;
}

/** What a driver's setup returns: the lines of the report, the fields its `--json` object adds, and the hand-off. */
export interface DriverSetupResult {
  changed: boolean;
  actions: JourneyAction[];
  /** The target's lines of a text report, after the host firewall's (never part of `--json`). */
  text: string[];
  /** Warnings a text report logs after its lines (never part of `--json`). */
  textWarnings?: string[];
  /** The debugger command line (the key in it unredacted: the sequence redacts). */
  handoff: { windbg?: string; gdb?: string };
  /** The driver may attach right away (Windows: --reboot saw the poke; Linux: not a check). */
  attachable: boolean;
  /** Warnings: logged once, and the `--json` object's `warnings`. */
  warnings: string[];
  /** Advice lines (Linux: the kernel command line), printed after the report and in `--json` as `advice`. */
  advice?: string[];
  /** The OS's own result fields (they follow the common ones in `--json`; never warnings or advice). */
  details: Record<string, unknown>;
}

/** The report lines of actions (with --check: each change's undo under it). */
export function actionLines(check: boolean, actions: readonly JourneyAction[], suffix = ""): string[] {
  const word = (o: string) => (check ? (o === "unchanged" ? "already done" : "would run") : o);
  return actions.flatMap((a) => [
    `${word(a.outcome)}: ${a.command}${suffix}`,
    ...(check && a.undo && a.outcome !== "unchanged" ? [`    undo: ${a.undo}`] : []),
  ]);
}

/** What a driver's teardown returns (the target's lines, newest journal entry first). */
export interface TargetTeardownResult {
  target: string;
  os?: "windows" | "linux";
  check: boolean;
  changed: boolean;
  actions: readonly object[];
  /** Linux: every command sent to the target. */
  commands?: readonly CommandEvent[];
  /** Linux: SSH got no answer but kgdboe did, so the kernel sat stopped in the debugger; teardown detached it first. */
  resumed?: string;
  /** The lines a text report prints (never part of `--json`). */
  text?: string[];
}

/** One OS behind the sequence. */
export interface OsDriver {
  readonly os: "windows" | "linux";
  /** Whether the target needs a KDNET key (generated and stored by the sequence). */
  readonly usesKey: boolean;
  /** Whether the sequence must find a host IP (E215 without one) or may go on without. */
  readonly needsHostIp: boolean;
  /** Refuse flags that do not apply and resolve inputs, before anything changes; the result reaches `setup`. */
  prepare(target: Target, request: SetupRequest): Promise<unknown>;
  setup(input: DriverSetupInput, deps: DriverDeps, progress: Progress): Promise<DriverSetupResult>;
  teardown(target: Target, request: TeardownRequest, deps: DriverDeps, progress: Progress): Promise<TargetTeardownResult>;
}
