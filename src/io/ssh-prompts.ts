/**
 * Questions the SSH layer may need to ask a person, registered by the CLI when it runs on a terminal. A module of
 * its own (no ssh2 import), so registering costs nothing for commands that never open SSH.
 */

/** Asked for the passphrase of an encrypted identity file; undefined (or "") skips the key. */
export type PassphrasePrompt = (file: string, attempt: number) => Promise<string | undefined>;

let passphrasePrompt: PassphrasePrompt | undefined;

/** Set (or clear) the passphrase question connectSsh uses when its options bring none. */
export function setPassphrasePrompt(fn: PassphrasePrompt | undefined): void {
  passphrasePrompt = fn;
}

export function registeredPassphrasePrompt(): PassphrasePrompt | undefined {
  return passphrasePrompt;
}
