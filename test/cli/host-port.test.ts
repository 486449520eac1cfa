/**
 * `host firewall …` and `host ipsec` read --port with the one port parser (src/core/udp-port.ts), before they
 * resolve or probe anything. Before, they had their own Number() check, which took "5e4" and "0xC350" for 50000
 * (setup refuses both).
 */
import { describe, expect, it } from "vitest";
import { runCliSource, tempHome } from "../helpers/cli.js";

describe("host --port", () => {
  for (const args of [
    ["host", "firewall", "status", "127.0.0.1"],
    ["host", "ipsec", "127.0.0.1"],
  ]) {
    it(`${args.slice(0, 3).join(" ")}: --port 5e4 / 0xC350 is E003, as for setup`, async () => {
      const home = tempHome();
      for (const bad of ["5e4", "0xC350"]) {
        const r = await runCliSource(["--json", ...args, "--port", bad], { env: { NETDBG_HOME: home } });
        expect(r.code, r.stderr).toBe(2);
        expect(JSON.parse(r.stdout).error).toMatchObject({ code: "NETDBG-E003" });
        expect(JSON.parse(r.stdout).error.message).toContain("--port");
      }
    });
  }
});
