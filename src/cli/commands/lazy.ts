/**
 * What the command modules load only when their command runs. The modules in this folder declare the CLI
 * (options, help) and must stay cheap to import: `netdbg --help`, `--version` and every usage error load all of
 * them, so a dependency with a real start-up cost (ssh2, zod, execa, listr2, inquirer, node-powershell) is
 * imported inside the action that needs it (bench/startup.ts measures it; test/cli/startup.test.ts keeps it so).
 */
import type { Target } from "../../core/inventory.js";

/** The OS half of setup / connect / teardown (src/cli/os/<os>.ts). */
export function osModule(os: Target["os"]): Promise<typeof import("../os/windows.js") | typeof import("../os/linux.js")> {
  return os === "windows" ? import("../os/windows.js") : import("../os/linux.js");
}
