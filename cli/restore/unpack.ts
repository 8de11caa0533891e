import { mkdir, readdir, rename, rm } from "node:fs/promises";
import * as path from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { Parser, Unpack } from "tar";
import { RestorableError } from "../../shared/errors";

/** A tar entry's path as a person reads it: no leading `./`, no trailing slash. */
export function entryPath(raw: string): string {
  return raw.replace(/^(\.\/)+/, "").replace(/\/+$/, "");
}

/**
 * Unpacks a tar stream (gzip-compressed or not: tar tells by its first bytes) into `directory`, resolving once
 * every file is written and the stream has ended, which for a verified component stream means its bytes were
 * the committed ones. tar's defaults keep every entry inside `directory` (no absolute paths, no `..`, nothing
 * through a symlink); owners are kept when running as root, as GNU tar does. An entry that cannot be written
 * (a full disk, a path escaping the directory) fails the unpacking; what tar only notes (a leading `/` stripped,
 * a device file it does not create) goes to `onWarning`.
 */
export async function unpackInto(
  source: Readable,
  directory: string,
  options: { filter?: (entry: string) => boolean; onWarning?: (message: string) => void } = {},
): Promise<void> {
  await mkdir(directory, { recursive: true });
  const { filter } = options;
  let fail: (error: Error) => void = () => {};
  const unpack = new Unpack({
    cwd: directory,
    // Our own archives, verified byte for byte: a backup of mostly zeros compresses far past tar's default guard.
    maxDecompressionRatio: Number.POSITIVE_INFINITY,
    ...(filter ? { filter: (raw: string) => filter(entryPath(raw)) } : {}),
    onwarn: (code: string, message: string | Error) => {
      const text = `${message instanceof Error ? message.message : message}`;
      if (code === "TAR_ENTRY_ERROR") fail(new RestorableError("unpack-failed", `could not unpack: ${text}`));
      else options.onWarning?.(text);
    },
  });
  await new Promise<void>((resolve, reject) => {
    let failed = false;
    fail = (error: Error) => {
      if (failed) return;
      failed = true;
      source.unpipe();
      source.destroy();
      reject(error);
    };
    source.on("error", fail);
    unpack.on("error", fail);
    unpack.on("close", () => {
      if (!failed) resolve();
    });
    source.pipe(unpack as unknown as NodeJS.WritableStream);
  });
}

/** Puts `from` where `to` is, replacing whatever `to` held (a --force restore, or a restarted one). */
export async function replaceWith(from: string, to: string): Promise<void> {
  await rm(to, { recursive: true, force: true });
  await rename(from, to);
}

/**
 * Moves what `from` holds into `to` (replacing same-named ones) and removes `from`: every top-level entry, or
 * only the given paths (each replacing just itself, inside directories that stay), and returns what it moved.
 */
export async function moveEntries(from: string, to: string, paths?: string[]): Promise<string[]> {
  const moved: string[] = [];
  for (const entry of paths ?? (await readdir(from)).sort()) {
    await mkdir(path.dirname(path.join(to, entry)), { recursive: true });
    await replaceWith(path.join(from, entry), path.join(to, entry));
    moved.push(entry);
  }
  await rm(from, { recursive: true, force: true });
  return moved;
}

/**
 * The bytes of one file inside a tar stream (gzip-compressed or not), as a stream of their own: it ends once the
 * tar stream has ended (for a verified component stream: once its bytes verified), and fails if the stream
 * fails or holds no such file. Everything else in the archive is read past, never written anywhere.
 */
export function entryStream(source: Readable, wanted: string): Readable {
  const out = new PassThrough({ highWaterMark: 1024 * 1024 });
  let found = false;
  const parser = new Parser({
    strict: true,
    maxDecompressionRatio: Number.POSITIVE_INFINITY,
    filter: (raw: string) => !found && entryPath(raw) === wanted,
    onReadEntry: (entry) => {
      if (entry.type !== "File" && entry.type !== "OldFile") return entry.resume();
      found = true;
      entry.pipe(out as unknown as NodeJS.WritableStream, { end: false });
    },
  });
  const fail = (error: Error) => {
    source.unpipe();
    source.destroy();
    out.destroy(error);
  };
  source.on("error", fail);
  parser.on("error", fail);
  parser.on("end", () => {
    if (found) out.end();
    else out.destroy(new RestorableError("entry-missing", `the archive holds no file ${wanted}`));
  });
  source.pipe(parser as unknown as NodeJS.WritableStream);
  return out;
}
