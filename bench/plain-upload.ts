/**
 * The reference for push throughput: the same file through lib-storage with the same part size and
 * concurrency, without hashing, tagging or a manifest. Bundled and run like the CLI bundle.
 *   node plain-upload.mjs <file> <bucket> <key>
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { partPlan } from "../cli/upload/hashing-upload";

const [file, bucket, key] = process.argv.slice(2) as [string, string, string];
const size = (await stat(file)).size;
await new Upload({
  client: new S3Client({}),
  params: { Bucket: bucket, Key: key, Body: createReadStream(file, { highWaterMark: 1024 * 1024 }) },
  ...partPlan(size),
}).done();
console.log(JSON.stringify({ bytes: size }));
