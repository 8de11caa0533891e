import type { FileHandle } from "node:fs/promises";
import { Writable } from "node:stream";

const MiB = 1024 * 1024;
/** How much written data may wait for the disk before a flush of it starts, alongside the download. */
const FLUSH_EVERY = 32 * MiB;

/**
 * A file written in order, whose data goes to disk while it downloads: every FLUSH_EVERY bytes a `fdatasync`
 * starts in the background (one at a time), so that the `fsync` the file gets when it ends has little left to
 * do. A restore renames a file to its final name only after that, so a final name never points at data still
 * waiting in memory. Queued chunks are written together (`writev`), one system call for several.
 */
export function fileSink(handle: FileHandle, options: { flush: boolean } = { flush: true }): Writable {
  let position = 0;
  let unflushed = 0;
  let flushing: Promise<void> | undefined;
  let failure: Error | undefined;
  const startFlush = () => {
    if (!options.flush || unflushed < FLUSH_EVERY || flushing) return;
    unflushed = 0;
    flushing = handle.datasync().then(
      () => {
        flushing = undefined;
      },
      (error: Error) => {
        failure = error;
        flushing = undefined;
      },
    );
  };
  const writeAll = async (buffers: Buffer[]) => {
    let pending = buffers;
    while (pending.length > 0) {
      const total = pending.reduce((sum, buffer) => sum + buffer.length, 0);
      const { bytesWritten } = await handle.writev(pending, position);
      position += bytesWritten;
      unflushed += bytesWritten;
      if (bytesWritten === total) return;
      pending = rest(pending, bytesWritten);
    }
  };
  return new Writable({
    highWaterMark: 4 * MiB,
    writev(chunks, callback) {
      if (failure) return callback(failure);
      writeAll(chunks.map((entry) => entry.chunk as Buffer)).then(
        () => {
          startFlush();
          callback();
        },
        (error: Error) => callback(error),
      );
    },
    final(callback) {
      Promise.resolve(flushing)
        .then(() => {
          if (failure) throw failure;
          return options.flush ? handle.sync() : undefined;
        })
        .then(
          () => callback(),
          (error: Error) => callback(error),
        );
    },
  });
}

/** What is left of `buffers` after the first `written` bytes. */
function rest(buffers: Buffer[], written: number): Buffer[] {
  let skip = written;
  const left: Buffer[] = [];
  for (const buffer of buffers) {
    if (skip >= buffer.length) {
      skip -= buffer.length;
      continue;
    }
    left.push(skip > 0 ? buffer.subarray(skip) : buffer);
    skip = 0;
  }
  return left;
}
