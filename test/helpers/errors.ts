import { isNetdbgError, type NetdbgError } from "../../src/core/error.js";

/** Await `p` and return the NetdbgError it rejects with; any other outcome fails the test. */
export async function codeOf(p: Promise<unknown>): Promise<NetdbgError> {
  try {
    await p;
  } catch (e) {
    if (isNetdbgError(e)) return e;
    throw e;
  }
  throw new Error("expected a NetdbgError, got success");
}
