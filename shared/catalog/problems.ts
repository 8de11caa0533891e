import * as z from "zod";

/**
 * An object the indexer could not place: under our prefixes but outside the layout (a stray file in
 * a set, a snapshot file whose name is not an id). Recorded rather than dropped, so someone looks.
 */
export const IngestProblemSchema = z.object({
  key: z.string(),
  reason: z.string(),
  firstSeenAt: z.iso.datetime({ offset: true }),
  lastSeenAt: z.iso.datetime({ offset: true }),
  occurrences: z.number().int().positive(),
});
export type IngestProblem = z.infer<typeof IngestProblemSchema>;

export interface ProblemStore {
  /** Idempotent per key: a repeated event counts up, it does not add a second problem. */
  record(key: string, reason: string, at: Date): Promise<void>;
  list(): Promise<IngestProblem[]>;
}
