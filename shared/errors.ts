import { ZodError } from "zod";

/**
 * Small named errors. Each carries a stable `code` so callers (and catalog status reasons) can tell
 * failures apart without string matching, and keeps the underlying failure as `cause`.
 */
export class RestorableError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that will never become valid by retrying: record it with a reason, do not retry. */
export class InvalidInputError extends RestorableError {}

/** Configuration (environment, flags, deployment lookup) is missing or malformed. */
export class ConfigurationError extends RestorableError {}

/**
 * One line for a person: the error's message and its cause's, the cause only when the message does not
 * already say it. A ZodError cause is left out: `parseWith` has already put its issues into the message,
 * and its own message is the issues again as JSON.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  // A message that already quotes its cause ("spawn pg_dump ENOENT; is PostgreSQL's client installed?")
  // would otherwise say it twice.
  if (!(cause instanceof Error) || cause instanceof ZodError || cause.message === "") return error.message;
  if (error.message.includes(cause.message)) return error.message;
  return `${error.message}: ${cause.message}`;
}
