import { createHash } from "node:crypto";
import { createGunzip, type Gunzip } from "node:zlib";
import { Parser, type ReadEntry } from "tar";
import { parseChecksums } from "../../shared/dumpset/host-files";
import { type ArchiveContent, MAX_ARCHIVE_CONTENTS } from "../../shared/dumpset/manifest";
import { RestorableError } from "../../shared/errors";

/** The archive is not a whole, readable tar (or tar.gz): truncated, damaged, or something else. */
export class UnreadableArchiveError extends RestorableError {}

/** The files a backup writes beside its data, as the helper's archive may name them. */
export const ARCHIVE_MANIFESTS = ["manifest.txt", "manifest.json"];
export const ARCHIVE_CHECKSUMS = ["SHA256SUMS", "sha256sums.txt"];
export const ARCHIVE_MASTER_KEY_IDS = ["master-key-id.txt", "master-key-id"];
/** A manifest or checksum file is a few kilobytes; only this much of one is read. */
const MAX_TEXT_BYTES = 1024 * 1024;
/** Entries whose SHA-256 is kept before the checksum file says which it names (about 150 bytes each). */
const MAX_REMEMBERED_DIGESTS = 100_000;
/** Top-level entries summed up one level deeper, for an archive under a single root directory. */
const MAX_SECOND_LEVEL = 10_000;

export interface ArchiveFindings {
  gzip: boolean;
  /** A backup file at the archive's top, or under its first directory: its path and text. */
  manifest: { path: string; text: string } | undefined;
  checksums: { path: string; text: string } | undefined;
  masterKeyId: { path: string; text: string } | undefined;
  /** SHA-256 (hex) of regular files by path; every file until MAX_REMEMBERED_DIGESTS, then `overflowed`. */
  digests: Map<string, string>;
  overflowed: boolean;
  contents: ArchiveContent[];
  entries: number;
}

interface Tally {
  type: ArchiveContent["type"];
  size: number;
  files: number;
}

/**
 * Reads a tar or tar.gz archive as its bytes stream past (on their way to S3), without writing anything: the
 * backup files at its top (manifest, checksums, master key id), a SHA-256 of each regular file, and a table of
 * contents. `write` resolves when it can take more, so a reader keeps pace with it in bounded memory; `end`
 * resolves once the archive is read to its end-of-archive marker, and rejects with UnreadableArchiveError for
 * a truncated or damaged one (gzip checks its CRC and length, tar its headers and its end marker).
 */
export class ArchiveInspector {
  private gunzip: Gunzip | undefined;
  private started = false;
  private readonly parser: Parser;
  private failure: Error | undefined;
  private sawEnd = false;
  private readonly done: Promise<void>;
  private firstDirectory: string | null | undefined;
  private readonly top = new Map<string, Tally>();
  private readonly second = new Map<string, Tally>();
  /** The file names the checksum file lists, once it has been read. */
  private listed: Set<string> | undefined;
  readonly findings: ArchiveFindings = {
    gzip: false,
    manifest: undefined,
    checksums: undefined,
    masterKeyId: undefined,
    digests: new Map(),
    overflowed: false,
    contents: [],
    entries: 0,
  };

  constructor(
    private readonly name: string,
    private readonly options: {
      onManifest?: () => void;
      /** Hash only files with these names (a second look for what the checksum file names). */
      hashOnly?: Set<string>;
    } = {},
  ) {
    this.parser = new Parser({
      strict: true,
      zstd: false,
      brotli: false,
      onReadEntry: (entry) => this.onEntry(entry),
    });
    this.parser.on("eof", () => {
      this.sawEnd = true;
    });
    this.done = new Promise<void>((resolve, reject) => {
      this.parser.on("error", (error: Error) => reject(this.fail(error)));
      this.parser.on("end", () => resolve());
    });
    this.done.catch(() => {});
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.started) this.begin(chunk);
    if (!this.gunzip) {
      this.parser.write(chunk);
      return;
    }
    if (!this.gunzip.write(chunk)) await new Promise<void>((resolve) => this.gunzip?.once("drain", () => resolve()));
    if (this.failure) throw this.failure;
  }

  async end(): Promise<ArchiveFindings> {
    if (this.failure) throw this.failure;
    if (!this.started) throw this.fail(new Error("the file is empty"));
    if (this.gunzip) this.gunzip.end();
    else this.parser.end();
    await this.done;
    if (!this.sawEnd) throw this.fail(new Error("it ends without tar's end-of-archive marker (truncated?)"));
    this.findings.contents = this.summarise();
    return this.findings;
  }

  /** Stops reading early (once the manifest is found, say). */
  abort(): void {
    this.gunzip?.destroy();
    this.parser.abort(new Error("stopped"));
  }

  private begin(first: Buffer): void {
    this.started = true;
    if (first[0] !== 0x1f || first[1] !== 0x8b) return;
    this.findings.gzip = true;
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    gunzip.on("data", (chunk: Buffer) => this.parser.write(chunk));
    gunzip.on("end", () => this.parser.end());
    gunzip.on("error", (error) => {
      this.fail(error);
      this.parser.emit("error", this.failure);
    });
    this.gunzip = gunzip;
  }

  private fail(error: Error): Error {
    if (this.failure) return this.failure;
    if (error.message === "stopped") {
      this.failure = error;
      return error;
    }
    const what = this.findings.gzip ? "tar.gz" : "tar";
    this.failure = new UnreadableArchiveError(
      "unreadable-archive",
      `${this.name} is not a whole ${what} archive: ${error.message.replace(/^TAR_BAD_ARCHIVE: |^TAR_ENTRY_INVALID: /, "")}`,
      { cause: error },
    );
    return this.failure;
  }

  private onEntry(entry: ReadEntry): void {
    const path = entry.path.replace(/^(\.\/)+/, "").replace(/\/+$/, "");
    this.findings.entries++;
    if (path === "" || path === ".") return void entry.resume();
    const segments = path.split("/");
    if (this.firstDirectory === undefined) this.firstDirectory = entry.type === "Directory" ? path : null;
    this.tally(segments, entry);
    if (entry.type !== "File" && entry.type !== "OldFile" && entry.type !== "ContiguousFile")
      return void entry.resume();
    const special = this.specialFile(segments);
    const hash = this.shouldHash(segments[segments.length - 1] as string) ? createHash("sha256") : undefined;
    const text: Buffer[] = [];
    let textBytes = 0;
    entry.on("data", (chunk: Buffer) => {
      hash?.update(chunk);
      if (special && textBytes < MAX_TEXT_BYTES) {
        text.push(chunk);
        textBytes += chunk.length;
      }
    });
    entry.on("end", () => {
      if (hash) this.findings.digests.set(path, hash.digest("hex"));
      if (special)
        this.findings[special] = { path, text: Buffer.concat(text).subarray(0, MAX_TEXT_BYTES).toString("utf-8") };
      if (special === "manifest") this.options.onManifest?.();
      if (special === "checksums") this.listed = listedNames(this.findings.checksums?.text ?? "");
    });
  }

  /**
   * Every file is hashed (the checksum file may come last); past MAX_REMEMBERED_DIGESTS, only those the checksum
   * file names once it has been read, and before that none: `overflowed` then asks for a second look.
   */
  private shouldHash(base: string): boolean {
    if (this.options.hashOnly) return this.options.hashOnly.has(base);
    if (this.findings.digests.size < MAX_REMEMBERED_DIGESTS) return true;
    if (this.listed) return this.listed.has(base);
    this.findings.overflowed = true;
    return false;
  }

  /** A backup file sits at the archive's top, or directly in its first entry when that is a directory. */
  private specialFile(segments: string[]): "manifest" | "checksums" | "masterKeyId" | undefined {
    const atTop = segments.length === 1 || (segments.length === 2 && segments[0] === this.firstDirectory);
    const base = segments[segments.length - 1] as string;
    if (!atTop) return undefined;
    if (ARCHIVE_MANIFESTS.includes(base) && !this.findings.manifest) return "manifest";
    if (ARCHIVE_CHECKSUMS.includes(base) && !this.findings.checksums) return "checksums";
    if (ARCHIVE_MASTER_KEY_IDS.includes(base) && !this.findings.masterKeyId) return "masterKeyId";
    return undefined;
  }

  private tally(segments: string[], entry: ReadEntry): void {
    const isFile = entry.type === "File" || entry.type === "OldFile" || entry.type === "ContiguousFile";
    const add = (map: Map<string, Tally>, key: string, depth: number) => {
      const type = segments.length > depth ? "directory" : kindOf(entry.type);
      const tally = map.get(key) ?? { type, size: 0, files: 0 };
      if (segments.length > depth) tally.type = "directory";
      tally.size += isFile ? entry.size : 0;
      tally.files += isFile ? 1 : 0;
      map.set(key, tally);
    };
    add(this.top, segments[0] as string, 1);
    if (
      segments.length >= 2 &&
      (this.second.size < MAX_SECOND_LEVEL || this.second.has(segments.slice(0, 2).join("/")))
    ) {
      add(this.second, segments.slice(0, 2).join("/"), 2);
    }
  }

  /** The top-level entries, or those of the single root directory everything sits in. */
  private summarise(): ArchiveContent[] {
    const [root, ...others] = [...this.top.entries()];
    const underOneRoot =
      root && others.length === 0 && root[1].type === "directory" && this.second.size < MAX_SECOND_LEVEL;
    const listed = underOneRoot ? [...this.second.entries()] : [...this.top.entries()];
    const contents = listed
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([path, tally]) => ({
        path,
        type: tally.type,
        size: tally.size,
        ...(tally.type === "directory" ? { files: tally.files } : {}),
      }));
    if (contents.length <= MAX_ARCHIVE_CONTENTS) return contents;
    const rest = contents.slice(MAX_ARCHIVE_CONTENTS - 1);
    return [
      ...contents.slice(0, MAX_ARCHIVE_CONTENTS - 1),
      {
        path: `… ${rest.length} more entries`,
        type: "other",
        size: rest.reduce((sum, c) => sum + c.size, 0),
        files: rest.reduce((sum, c) => sum + (c.files ?? (c.type === "file" ? 1 : 0)), 0),
      },
    ];
  }
}

/** The file names a checksum file lists (nothing when it does not parse: verifying it says why). */
export function listedNames(text: string): Set<string> {
  try {
    return new Set(parseChecksums(text).map((line) => line.path.split("/").pop() as string));
  } catch {
    return new Set();
  }
}

function kindOf(type: ReadEntry["type"]): ArchiveContent["type"] {
  if (type === "File" || type === "OldFile" || type === "ContiguousFile") return "file";
  if (type === "Directory") return "directory";
  if (type === "SymbolicLink") return "symlink";
  return "other";
}

/**
 * The archive file a SHA256SUMS line names. sha256sum prints paths as it was given them: relative to where it
 * ran (`main.dump`, `./main.dump`, `20261203/main.dump`) or absolute on the host that wrote the backup
 * (`/backups/codebolt/20261203/main.dump`, as the page's script does). In that order: the path itself; the
 * longest archive path the listed path ends with; the archive path nearest the top that ends with the listed
 * path (it sits under the archive's root directory); the one nearest the top with the same file name.
 */
export function matchChecksumPath(listed: string, paths: Iterable<string>): string | undefined {
  const wanted = listed.replace(/^(\.\/)+/, "").replace(/^\/+/, "");
  const all = [...paths].sort();
  if (all.includes(wanted)) return wanted;
  const byLength = (longest: boolean) => (a: string, b: string) =>
    longest ? b.length - a.length : a.length - b.length;
  const base = wanted.split("/").pop() as string;
  return (
    all.filter((path) => wanted.endsWith(`/${path}`)).sort(byLength(true))[0] ??
    all.filter((path) => path.endsWith(`/${wanted}`)).sort(byLength(false))[0] ??
    all.filter((path) => path.split("/").pop() === base).sort(byLength(false))[0]
  );
}
