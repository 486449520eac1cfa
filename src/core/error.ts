import { catalog, type CatalogCode, type ParamsOf } from "./errors/index.js";
import { EXIT_CODES, type ExitClass } from "./errors/types.js";

/**
 * An expected, explained failure. `message` states the fact, `fix` says what to do, `code` is stable.
 * Messages must never contain secrets: callers pass redacted values (see redact.ts).
 */
export class NetdbgError extends Error {
  readonly code: string;
  readonly fix: string;
  readonly exitClass: ExitClass;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: string,
    message: string,
    fix: string,
    exitClass: ExitClass,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "NetdbgError";
    this.code = code;
    this.fix = fix;
    this.exitClass = exitClass;
    this.details = options?.details;
  }

  get exitCode(): number {
    return EXIT_CODES[this.exitClass];
  }

  /** `fact. fix. [NETDBG-E0xx]` — the one-line form used on terminals and in logs. */
  format(): string {
    return `${this.message} ${this.fix} [${this.code}]`;
  }

  toJSON(): { code: string; message: string; fix: string } {
    return { code: this.code, message: this.message, fix: this.fix };
  }
}

/** Build the error for a catalog entry. `code` is `E###`; the emitted code is `NETDBG-E###`. */
export function netdbgError<C extends CatalogCode>(
  code: C,
  params: ParamsOf<C>,
  options?: { cause?: unknown; details?: Record<string, unknown> },
): NetdbgError {
  const spec = catalog[code] as unknown as {
    exit: ExitClass;
    message: (p: ParamsOf<C>) => string;
    fix: (p: ParamsOf<C>) => string;
  };
  return new NetdbgError(`NETDBG-${code}`, spec.message(params), spec.fix(params), spec.exit, options);
}

export function isNetdbgError(e: unknown): e is NetdbgError {
  return e instanceof NetdbgError;
}
