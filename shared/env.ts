import type { z } from "zod";
import { ConfigurationError } from "./errors";

/** Parses a Lambda's environment once at cold start; a missing variable fails loudly, naming it. */
export function loadEnvironment<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv = process.env): z.infer<T> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
  throw new ConfigurationError("invalid-environment", `environment is incomplete: ${problems}`, {
    cause: result.error,
  });
}
