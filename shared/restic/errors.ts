import { InvalidInputError } from "../errors";

/**
 * Stored bytes that do not authenticate under the key: tampered, truncated, or encrypted with another
 * key. Retrying cannot help, so it is an InvalidInputError.
 */
export class ResticMacError extends InvalidInputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("restic-mac-mismatch", message, options);
  }
}

/** No key file of the repository (or not the one tried) opens with the password. */
export class WrongPasswordError extends InvalidInputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("restic-wrong-password", message, options);
  }
}

/**
 * The bytes authenticate but cannot be decoded (unknown encoding byte, broken zstd, not JSON). JSON of
 * the wrong shape is reported by `parseWith` as an InvalidInputError naming the file kind and the issues.
 */
export class ResticFormatError extends InvalidInputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("restic-undecodable", message, options);
  }
}
