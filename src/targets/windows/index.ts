/** netdbg/windows: pure parsers for Windows targets, and the probe / plan / apply / teardown steps. */
export {
  parseDbgSettings,
  parseBcdEnum,
  parseCopyResult,
  classifyBcdeditFailure,
  parseBcdBoolean,
  bcdElement,
  bcdValues,
  type DbgSettings,
  type BcdObject,
  type BcdElement,
  type BcdFailure,
  type BcdFailureKind,
} from "./bcdedit-parse.js";
export { parseKdnetList, type KdnetList, type KdnetNic, type KdnetUsbController } from "./kdnet-parse.js";
export { SUPPORTED_NICS, NIC_VENDORS } from "./supported-nics.js";
export {
  checkElevation,
  probeWindows,
  factsFromProbe,
  classifyNic,
  ENTRY_SUFFIX,
  DEFAULT_EXPORT_DIR,
  DEFAULT_KDNET_PATH,
  type WindowsFacts,
  type NicFacts,
  type WhoAmI,
} from "./probe.js";
export {
  planWindowsSetup,
  twoPfConfiguration,
  selectNic,
  displayBcd,
  displayCall,
  ENTRY_PLACEHOLDER,
  type WindowsPlan,
  type WindowsSetupConfig,
  type ScriptCall,
  type ExpectedSettings,
} from "./plan.js";
export {
  applyWindowsPlan,
  verifyWindowsSetup,
  teardownWindows,
  restoreExport,
  restoreExportCall,
  redactingStore,
  SETUP_STEP,
  type Verified,
} from "./run.js";
export {
  renderScript,
  wireCommand,
  sessionRunner,
  parsePsJson,
  psStderrText,
  MAX_COMMAND_LINE,
  type ScriptRunner,
  type TemplateName,
} from "./ps.js";
export { setupWindows, type SetupWindowsOptions, type SetupWindowsResult } from "./setup.js";
export {
  type KdnetPoke,
  kdnetSourceToRecord,
  type PokeWatch,
  rebootAndWait,
  type RebootOptions,
  type RebootResult,
} from "./reboot.js";
export { type WinrmCredential, winrmParams, winrmRunner, winrmWrapperText } from "./winrm.js";
