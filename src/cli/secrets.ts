import type { SecretStore } from "../core/interfaces.js";
import { probeKeyring } from "../io/keyring-store.js";
import type { Context } from "./context.js";

let chosen: SecretStore | undefined;

/**
 * The secret store in use: the 0600 file store by default; the OS keyring when NETDBG_SECRET_STORE=keyring and
 * a write/read/delete probe succeeds (otherwise the file store, said once).
 */
export async function secretStore(ctx: Context, env: NodeJS.ProcessEnv = process.env): Promise<SecretStore> {
  if (chosen) return chosen;
  if (env.NETDBG_SECRET_STORE === "keyring") {
    const k = await probeKeyring();
    if (k) return (chosen = k);
    ctx.log.warn(`the OS keyring did not answer a probe, so keys are kept in ${ctx.secrets.kind}.`);
  }
  return (chosen = ctx.secrets);
}
