import { describe, expect, it } from "vitest";
import type { Target } from "../../../src/core/inventory.js";
import { pollControllerCheck } from "../../../src/doctor/checks-linux.js";
import { runChecks } from "../../../src/doctor/run.js";
import { parsePollProbe } from "../../../src/targets/linux/pollctl.js";
import type { LinuxFacts } from "../../../src/targets/linux/types.js";
import { linuxFactsWithNics } from "../../helpers/linux-facts.js";

const target: Target = { name: "lx", os: "linux", address: "10.0.2.15", port: 50020 };

const run = async (f: LinuxFacts) => (await runChecks({ target, linuxFacts: async () => f }, [pollControllerCheck]))[0]!;

describe("doctor: linux.poll-controller shows setup's verdict", () => {
  it("virtio_net (module without a poll controller): a warning with E315 and the bundled module", async () => {
    const r = await run(
      linuxFactsWithNics(
        [{ name: "enp0s3", driver: "virtio_net", state: "up", flags: [], ipv4: "10.0.2.15" }],
        parsePollProbe("mod=virtio_net\n"),
      ),
    );
    expect(r.status).toBe("warn");
    expect(r.code).toBe("NETDBG-E315");
    expect(r.fix).toContain("bundled");
  });
  it("e1000 with e1000_netpoll: ok", async () => {
    const r = await run(
      linuxFactsWithNics(
        [{ name: "eth0", driver: "e1000", state: "up", flags: [], ipv4: "10.0.2.15" }],
        parsePollProbe("mod=e1000\npoll=e1000\te1000_netpoll\n"),
      ),
    );
    expect(r.status).toBe("ok");
    expect(r.message).toContain("e1000");
  });
});
