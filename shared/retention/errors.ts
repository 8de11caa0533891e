import { InvalidInputError, RestorableError } from "../errors";

/** A retention policy (a config value, a flag, a duration) that restic itself would reject. */
export class InvalidRetentionPolicyError extends InvalidInputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("retention-invalid-policy", message, options);
  }
}

/** A backup's time that cannot be read exactly: without it neither order nor calendar buckets are known. */
export class InvalidSnapshotTimeError extends InvalidInputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("retention-invalid-time", message, options);
  }
}

/** `restic forget` with no keep rule at all refuses to run rather than remove everything; so do we. */
export class EmptyRetentionPolicyError extends InvalidInputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("retention-empty-policy", message, options);
  }
}

/**
 * `restic forget` refuses the whole run when a policy would leave a group with no snapshot at all (only
 * possible with keep-tag rules that match nothing in the group); so do we, naming the group.
 */
export class RetentionWouldRemoveAllError extends RestorableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("retention-would-remove-all", message, options);
  }
}
