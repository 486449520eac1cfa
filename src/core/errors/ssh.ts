import { defineErrors } from "./types.js";

/** SSH transport errors (E800–E849): see the code ranges in types.ts. */
export const sshErrors = defineErrors({});
