import { describe, expect, it } from "vitest";
import { netdbgError } from "../../src/core/error.js";
import type { Target } from "../../src/core/inventory.js";
import { runChecks, worst } from "../../src/doctor/run.js";
import { runCli, tempHome } from "../helpers/cli.js";

const win: Target = { name: "w", os: "windows", address: "10.0.0.5", port: 50000 };

describe("doctor", () => {
  it("reports a missing key, a busy port and a route warning with fixes", async () => {
    const results = await runChecks({
      target: win,
      route: async () => ({
        address: "10.0.0.5",
        localAddress: "10.0.0.1",
        interface: "wlan0",
        medium: "wireless",
        wired: false,
        source: "ip-route",
        warnings: [{ kind: "wireless", message: "The route is wireless." }],
      }),
      portFree: async () => false,
      storedKey: async () => undefined,
    });
    const byId = Object.fromEntries(results.map((r) => [r.id, r]));
    expect(byId["host.route"]).toMatchObject({ status: "warn", message: expect.stringContaining("wlan0") });
    expect(byId["host.port"]).toMatchObject({ status: "warn", fix: expect.stringContaining("ss -ulpn") });
    expect(byId["host.key"]).toMatchObject({ status: "fail", code: "NETDBG-E009" });
    expect(worst(results)).toBe("fail");
  });

  it("turns a coded route error into a failed check, and a crashing check into a failure that names the bug", async () => {
    const results = await runChecks({
      target: { ...win, os: "linux" },
      route: async () => {
        throw netdbgError("E001", { what: "x" });
      },
      portFree: async () => {
        throw new Error("kaboom");
      },
    });
    expect(results.find((r) => r.id === "host.route")).toMatchObject({ status: "fail", code: "NETDBG-E001" });
    expect(results.find((r) => r.id === "host.port")).toMatchObject({
      status: "fail",
      message: expect.stringContaining("kaboom"),
    });
    expect(results.find((r) => r.id === "host.key")?.status).toBe("skip");
  });

  it("exits 1 and names the missing key through the real CLI", async () => {
    const home = tempHome();
    await runCli(["targets", "add", "w", "--os", "windows", "--address", "127.0.0.1", "--no-key"], { home });
    const r = await runCli(["--json", "doctor", "w", "--no-ssh"], { home });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { verdict: string; reports: { checks: { id: string; status: string }[] }[] };
    expect(out.verdict).toBe("fail");
    expect(out.reports[0]!.checks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: "host.key", status: "fail" }),
        expect.objectContaining({ id: "host.route", status: "warn" }),
      ]),
    );
  });
});

describe("doctor with nothing to check", () => {
  it("says the inventory is empty and exits 2 (text mode and --json)", async () => {
    const home = tempHome();
    const r = await runCli(["doctor"], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("nothing to check");
    expect(r.stderr).toContain("[NETDBG-E715]");
    const j = await runCli(["--json", "doctor"], { home });
    expect(j.code).toBe(2);
    expect(JSON.parse(j.stdout)).toMatchObject({ error: { code: "NETDBG-E715" } });
  });
});
