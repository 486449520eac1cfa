/** Cross-process locks (src/io/lock.ts): exclusive, broken when stale, never broken when another host holds them. */
import { fork } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { acquireLock, LockHeldError, lockOwner, withLock, withNamedLock } from "../../src/io/lock.js";
import { codeOf } from "../helpers/errors.js";

const tmp = () => mkdtempSync(join(tmpdir(), "nd-lock-"));

/** A pid that does not run on this machine: a child that has exited. */
async function deadPid(): Promise<number> {
  const c = fork("-e", ["0"], { execArgv: [], stdio: "ignore" });
  const pid = c.pid as number;
  await new Promise((r) => c.once("exit", r));
  return pid;
}

describe("acquireLock", () => {
  it("is exclusive: a second taker waits, then gets it when the first releases", async () => {
    const file = join(tmp(), "a.lock");
    const release = await acquireLock(file, { waitMs: 0, command: "first" });
    expect((await lockOwner(file))?.command).toBe("first");
    const order: string[] = [];
    const second = withLock(file, { waitMs: 5_000, command: "second" }, async () => {
      order.push("second");
    });
    await new Promise((r) => setTimeout(r, 100));
    order.push("first done");
    await release();
    await second;
    expect(order).toEqual(["first done", "second"]);
    expect(existsSync(file)).toBe(false);
  });

  it("gives up after the wait, naming the holder", async () => {
    const file = join(tmp(), "b.lock");
    const release = await acquireLock(file, { waitMs: 0, command: "netdbg setup win01" });
    const e = await acquireLock(file, { waitMs: 150, command: "other" }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(LockHeldError);
    expect((e as LockHeldError).owner).toMatchObject({ pid: process.pid, host: hostname(), command: "netdbg setup win01" });
    await release();
  });

  it("a taker that loses a race always learns the holder: the lock file is never seen empty", async () => {
    // before: the winner created the file empty and wrote its owner after, so a loser reading in between reported
    // "pid unknown on unknown" (seen in CI as E016 without the holder's command)
    for (let i = 0; i < 200; i++) {
      const file = join(tmp(), "race.lock");
      const results = await Promise.allSettled([
        acquireLock(file, { waitMs: 0, command: "netdbg setup one" }),
        acquireLock(file, { waitMs: 0, command: "netdbg setup two" }),
      ]);
      const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
      expect(lost).toBeDefined();
      expect((lost!.reason as LockHeldError).owner?.command).toMatch(/^netdbg setup (one|two)$/);
      for (const r of results) if (r.status === "fulfilled") await r.value();
    }
  });

  it("breaks a lock whose owner no longer runs on this host", async () => {
    const file = join(tmp(), "c.lock");
    writeFileSync(
      file,
      JSON.stringify({ pid: await deadPid(), host: hostname(), command: "crashed", since: "2026-01-01T00:00:00Z" }),
    );
    const release = await acquireLock(file, { waitMs: 0, command: "me" });
    expect((await lockOwner(file))?.command).toBe("me");
    await release();
  });

  it("never breaks a lock held from another host (a shared state directory)", async () => {
    const file = join(tmp(), "d.lock");
    writeFileSync(file, JSON.stringify({ pid: await deadPid(), host: "other-host.example", command: "setup", since: "x" }));
    await expect(acquireLock(file, { waitMs: 100, command: "me" })).rejects.toBeInstanceOf(LockHeldError);
    expect(JSON.parse(readFileSync(file, "utf8")).host).toBe("other-host.example");
  });

  it("many takers at once in one process run one at a time", async () => {
    const file = join(tmp(), "e.lock");
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        withLock(file, { waitMs: 30_000, command: "x", pollMs: 5 }, async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((r) => setTimeout(r, 2));
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
  });

  it("withNamedLock reports a held lock as NETDBG-E016 (exit 3) with holder and lock file", async () => {
    const file = join(tmp(), "f.lock");
    const release = await acquireLock(file, { waitMs: 0, command: "netdbg setup lin01" });
    const e = await codeOf(
      withNamedLock(file, { waitMs: 0, command: "me", what: "target 'lin01'", waitFlag: true }, async () => 1),
    );
    expect(e.code).toBe("NETDBG-E016");
    expect(e.exitCode).toBe(3);
    expect(e.message).toContain(`pid ${process.pid}`);
    expect(e.message).toContain("netdbg setup lin01");
    expect(e.message).toContain("target 'lin01'");
    expect(e.fix).toContain("--wait");
    expect(e.fix).toContain(file);
    await release();
  });
});
