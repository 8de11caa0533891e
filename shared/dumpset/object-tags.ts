/**
 * The SHA-256 of a component is only known once its multipart upload has streamed through the hash,
 * after S3 has fixed the object's metadata. So the uploader records it as an object tag on the exact
 * version it uploaded: tagging neither copies the object nor creates a version, and the indexer can
 * read it back without downloading anything.
 */
export const SHA256_TAG = "restorable-sha256";
