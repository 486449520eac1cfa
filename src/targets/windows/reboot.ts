/**
 * `--reboot`: restart the target into the debug entry and wait for SSH to come back, then read which entry
 * booted ({current} by GUID, locale-free) and whether its debug flag is on.
 * (Waiting for the first KDNET poke at the host instead needs the engine; not part of this module.)
 */
import { netdbgError } from "../../core/error.js";
import type { Clock } from "../../core/ports.js";
import { bcdElement, parseBcdBoolean, parseBcdEnum } from "./bcdedit-parse.js";
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
}

export interface RebootResult {
  /** GUID of the entry Windows booted ({current}), lower case. */
  bootedEntry: string | undefined;
  debug: boolean | undefined;
  attempts: number;
  /** The runner of the new session (caller closes it with `close`). */
  run: ScriptRunner;
  close: () => Promise<void>;
}

export async function rebootAndWait(o: RebootOptions): Promise<RebootResult> {
  const delay = o.delaySeconds ?? 5;
  const timeoutMs = o.timeoutMs ?? 600_000;
  const interval = o.intervalMs ?? 5_000;
  await o.run.run("reboot", { DelaySeconds: delay });
  await o.close().catch(() => undefined);
  await o.clock.sleep(delay * 1000 + interval);
  const deadline = o.clock.now().getTime() + timeoutMs;
  let last = "";
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      const s = await o.reconnect();
      try {
        const r = await s.run.run<{ exitCode: number; output: string }>("bcdedit", { BcdArgs: ["/enum", "{current}", "/v"] });
        const cur = r.exitCode === 0 ? parseBcdEnum(r.output)[0] : undefined;
        return {
          bootedEntry: cur?.guid,
          debug: cur ? parseBcdBoolean(bcdElement(cur, "debug") ?? "") : undefined,
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
