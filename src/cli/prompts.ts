/**
 * Every interactive question netdbg asks goes through this module (the wizard and single commands alike), so
 * tests can replace it wholesale and non-interactive runs fail the same way everywhere: when stdin is not a
 * TTY nothing is asked and the error names the flags to pass instead (NETDBG-E002).
 */
import { netdbgError } from "../core/error.js";
import type { HostKeyPrompt } from "../io/ssh.js";
import { setPassphrasePrompt } from "../io/ssh-prompts.js";

export interface Question<T> {
  /** The flag that answers this question on the command line, without dashes (named in the E002 error). */
  flag: string;
  message: string;
  default?: T;
}

export interface Prompter {
  readonly interactive: boolean;
  input(q: Question<string> & { validate?: (v: string) => string | true }): Promise<string>;
  select<T extends string>(q: Question<T> & { choices: { value: T; name?: string; description?: string }[] }): Promise<T>;
  confirm(q: Question<boolean>): Promise<boolean>;
  password(q: Question<string>): Promise<string>;
}

/** Fail with one error naming every flag the non-interactive run is missing. */
export function requireFlags(missing: string[]): never {
  throw netdbgError("E002", { missing });
}

async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if ((e as Error).name === "ExitPromptError" || (e as Error).name === "AbortPromptError") throw netdbgError("E014", {});
    throw e;
  }
}

/** The real prompter (@inquirer/prompts, loaded only when a question is actually asked). */
export function createPrompter(isTTY = Boolean(process.stdin.isTTY && process.stdout.isTTY)): Prompter {
  const needTTY = (flag: string) => {
    if (!isTTY) requireFlags([flag]);
  };
  return {
    interactive: isTTY,
    async input(q) {
      needTTY(q.flag);
      const { input } = await import("@inquirer/prompts");
      return guarded(() =>
        input({
          message: q.message,
          ...(q.default !== undefined ? { default: q.default } : {}),
          ...(q.validate ? { validate: q.validate } : {}),
        }),
      );
    },
    async select(q) {
      needTTY(q.flag);
      const { select } = await import("@inquirer/prompts");
      return guarded(() =>
        select({ message: q.message, choices: q.choices, ...(q.default !== undefined ? { default: q.default } : {}) }),
      );
    },
    async confirm(q) {
      needTTY(q.flag);
      const { confirm } = await import("@inquirer/prompts");
      return guarded(() => confirm({ message: q.message, ...(q.default !== undefined ? { default: q.default } : {}) }));
    },
    async password(q) {
      needTTY(q.flag);
      const { password } = await import("@inquirer/prompts");
      return guarded(() => password({ message: q.message, mask: "*" }));
    },
  };
}

/**
 * On a terminal, SSH asks for the passphrase of an encrypted key file as ssh does (masked, three tries);
 * elsewhere such a key is skipped and the error says to load it with ssh-add.
 */
export function registerTerminalPrompts(prompter: Prompter = createPrompter()): void {
  setPassphrasePrompt(
    prompter.interactive
      ? (file, attempt) =>
          prompter.password({
            flag: "identity-file",
            message: `${attempt > 1 ? "Bad passphrase, try again. " : ""}Enter passphrase for key '${file}'`,
          })
      : undefined,
  );
}

/** The host-key question, OpenSSH's warning first when other key types are known for the host. */
export function hostKeyQuestion(p: HostKeyPrompt): string {
  const q = `The ${p.keyType} host key of ${p.name} is ${p.fingerprint}, seen for the first time. Trust it and add it to ${p.knownHostsFile}?`;
  return p.warning ? `${p.warning}\n${q}` : q;
}

/** The host-key question on the terminal (SSH's first contact); the answer defaults to no. */
export async function confirmHostKey(p: HostKeyPrompt): Promise<boolean> {
  return createPrompter(true).confirm({ flag: "accept-new-host-key", message: hostKeyQuestion(p), default: false });
}

/** A password asked once on the terminal (masked); `flag` is what answers it without a terminal. */
export async function askPassword(message: string, flag: string): Promise<string> {
  return createPrompter(true).password({ flag, message });
}
