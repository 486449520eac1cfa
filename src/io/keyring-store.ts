import type { SecretStore } from "../core/interfaces.js";

const SERVICE = "netdbg";

interface EntryLike {
  setPassword(p: string): void;
  getPassword(): string | null | undefined;
  deletePassword(): boolean;
}
type EntryCtor = new (service: string, account: string) => EntryLike;

/** OS keyring (Secret Service, macOS Keychain, Windows Credential Manager) via the optional @napi-rs/keyring. */
export class KeyringSecretStore implements SecretStore {
  readonly kind = "OS keyring";
  constructor(private readonly Entry: EntryCtor) {}
  async get(name: string): Promise<string | undefined> {
    return new this.Entry(SERVICE, name).getPassword() ?? undefined;
  }
  async set(name: string, secret: string): Promise<void> {
    new this.Entry(SERVICE, name).setPassword(secret);
  }
  async delete(name: string): Promise<boolean> {
    return new this.Entry(SERVICE, name).deletePassword();
  }
}

/**
 * The keyring store, only when a write/read/delete probe round-trips; otherwise undefined (callers fall back to
 * the file store and say so once). Headless Linux without D-Bus fails the probe (toolchain.md §4).
 */
export async function probeKeyring(
  load: () => Promise<unknown> = () => import("@napi-rs/keyring" as string),
): Promise<KeyringSecretStore | undefined> {
  try {
    const mod = (await load()) as { Entry?: EntryCtor };
    if (!mod.Entry) return undefined;
    const store = new KeyringSecretStore(mod.Entry);
    const probeName = `probe-${process.pid}-${Date.now()}`;
    await store.set(probeName, "netdbg-probe");
    const back = await store.get(probeName);
    await store.delete(probeName);
    return back === "netdbg-probe" ? store : undefined;
  } catch {
    return undefined;
  }
}
