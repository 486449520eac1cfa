import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseKconfig, unmetAssignments } from "../../src/lab/kconfig.js";

const fragment = readFileSync(new URL("../../templates/lab/kgdb.config", import.meta.url), "utf8");
const debian = readFileSync(new URL("../fixtures/linux/debian12-6.1.0-56-amd64-config-excerpt.txt", import.meta.url), "utf8");

describe("kernel config", () => {
  it("the lab fragment asks for everything kgdboc/kgdboe need and strips KASLR and module signing", () => {
    const f = parseKconfig(fragment);
    for (const k of [
      "KGDB",
      "KGDB_SERIAL_CONSOLE",
      "KGDB_KDB",
      "NETPOLL",
      "FTRACE",
      "KALLSYMS_ALL",
      "MAGIC_SYSRQ",
      "E1000",
      "VIRTIO_BLK",
      "EXT4_FS",
    ]) {
      expect(f.get(`CONFIG_${k}`), k).toBe("y");
    }
    // a module, so the bundled kgdboe's multi-core mode finds the module owning a virtio NIC
    expect(f.get("CONFIG_VIRTIO_NET")).toBe("m");
    for (const k of ["RANDOMIZE_BASE", "MODULE_SIG", "DRM", "SOUND", "USB_SUPPORT", "WLAN"])
      expect(f.get(`CONFIG_${k}`), k).toBe("n");
  });

  it("parses Debian's real config and sees that it lacks KGDB (the stock variant's point)", () => {
    const d = parseKconfig(debian);
    expect(d.get("CONFIG_KGDB")).toBe("n");
    expect(d.get("CONFIG_NETPOLL")).toBe("y");
    const unmet = unmetAssignments(parseKconfig(fragment), d);
    expect(unmet).toContain("CONFIG_KGDB=y (got n)");
    expect(unmet).toContain("CONFIG_RANDOMIZE_BASE=n (got y)");
  });

  it("an option absent from the final config counts as not set", () => {
    const unmet = unmetAssignments(parseKconfig("# CONFIG_A is not set\nCONFIG_B=y\n"), parseKconfig('CONFIG_C="x"\n'));
    expect(unmet).toEqual(["CONFIG_B=y (got n)"]);
  });

  it("rejects lines that are not kconfig", () => {
    expect(() => parseKconfig("KGDB=y")).toThrow(/not a kconfig line/);
  });
});
