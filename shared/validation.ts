import type { z } from "zod";
import { InvalidInputError } from "./errors";

/**
 * Parses `value` with `schema`; a failure becomes an InvalidInputError naming `what` and every issue,
 * so the reason recorded in the catalog (or printed by the CLI) says exactly what was wrong.
 */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues
    .slice(0, 5)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message))
    .join("; ");
  throw new InvalidInputError("invalid-" + what.replace(/\s+/g, "-"), `invalid ${what}: ${issues}`, {
    cause: result.error,
  });
}

export function parseJsonWith<T extends z.ZodType>(schema: T, text: string, what: string): z.infer<T> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError("invalid-" + what.replace(/\s+/g, "-"), `${what} is not valid JSON`, { cause: error });
  }
  return parseWith(schema, value, what);
}
