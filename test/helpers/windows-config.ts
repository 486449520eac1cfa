/** The Windows setup inputs the tests share: the KDNET key of the bcdedit fixtures and the setup config around it. */
import type { WindowsSetupConfig } from "../../src/targets/windows/index.js";

/** The key in the bcdedit fixtures (test/fixtures/bcdedit), stored for target "win" and expected back. */
export const KEY = "2steg4fzbj2sz.23418vzkd4ko3.1g34ou07z4pev.1sp3yo9yz874p";

/** setupWindows' config: target "win", host 192.0.2.10, port 50005, KEY, the default export folder; `over` the rest. */
export function setupConfig(over: Partial<WindowsSetupConfig> = {}): WindowsSetupConfig {
  return {
    target: "win",
    hostIp: "192.0.2.10",
    port: 50005,
    key: KEY,
    exportDir: "C:\\ProgramData\\netdbg",
    stamp: "S",
    ...over,
  };
}
