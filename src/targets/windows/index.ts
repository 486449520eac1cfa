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
