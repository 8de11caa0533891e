/**
 * The references for restore throughput: the same object version through one plain GetObject, streamed to a
 * file, without hashing, verifying or renaming. With `--flush` the file goes through the writer restore uses,
 * which flushes to disk as the download goes and fsyncs at the end: the same bytes landed on disk the same way,
 * so that the two differ only by what restore adds. Without it, the download ends with its bytes still in the
 * page cache. Bundled and run like the CLI bundle.
 *   node plain-download.mjs <bucket> <key> <versionId> <file> [--flush]
 */
import { createWriteStream } from "node:fs";
import { open } from "node:fs/promises";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { fileSink } from "../cli/restore/file-sink";

const [bucket, key, versionId, file, flag] = process.argv.slice(2) as [string, string, string, string, string?];
const object = await new S3Client({}).send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
if (flag === "--flush") {
  const handle = await open(file, "w");
  try {
    await pipeline(object.Body as Readable, fileSink(handle));
  } finally {
    await handle.close();
  }
} else {
  await pipeline(object.Body as Readable, createWriteStream(file));
}
console.log(JSON.stringify({ bytes: object.ContentLength }));
