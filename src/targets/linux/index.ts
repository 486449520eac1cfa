/** netdbg/linux: pure parsers for Linux targets, for scripts (`import { parseKernelConfig } from "netdbg/linux"`). */
export { parseKernelConfig, kconfigEnabled, kconfigValue, type KernelConfig } from "./kconfig.js";
export { parseKgdboeDmesg, type KgdboeDmesg } from "./dmesg.js";
export { classifyModuleLoadFailure, type ClassifiedFailure } from "./failures.js";
export { stripKmsgPrefix } from "./kmsg.js";
