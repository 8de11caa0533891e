/**
 * The reference for restore throughput: the same object version through one plain GetObject, streamed to a file,
 * without hashing, verifying or renaming. Bundled and run like the CLI bundle.
 *   node plain-download.mjs <bucket> <key> <versionId> <file>
 */
import { createWriteStream } from "node:fs";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";

const [bucket, key, versionId, file] = process.argv.slice(2) as [string, string, string, string];
const object = await new S3Client({}).send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
await pipeline(object.Body as Readable, createWriteStream(file));
console.log(JSON.stringify({ bytes: object.ContentLength }));
