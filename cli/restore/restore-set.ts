import { open, rename, rm } from "node:fs/promises";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import type { S3Client } from "@aws-sdk/client-s3";
import type { CatalogComponent, DumpSetEntry } from "../../shared/catalog/entry";
import { type ComponentStream, streamComponent } from "../../shared/dumpset/component-stream";
import { InvalidInputError, RestorableError } from "../../shared/errors";
import { noProgress, type TransferProgress } from "../upload/progress";
import { fileSink } from "./file-sink";
import { finishTarget, partialPath, prepareTarget } from "./target";
import { entryPath, moveEntries, replaceWith, unpackInto } from "./unpack";

export {
  ComponentMismatchError,
  ComponentReadError,
  type ComponentStream,
  type PinnedComponent,
  streamComponent,
} from "../../shared/dumpset/component-stream";

/** The set cannot be restored as it stands (not COMPLETE: its versions are not all pinned and verified). */
export class SetNotRestorableError extends RestorableError {}
/** Ctrl-C: what was verified stays, nothing partial is left under a final name. */
export class RestoreInterruptedError extends RestorableError {}

export interface RestoreSetOptions {
  s3: S3Client;
  bucket: string;
  entry: DumpSetEntry;
  /** The target directory; created when missing. */
  to: string;
  /**
   * Restore only these: component names (`main.dump`, `shadow-git.tar.gz`), the directory a directory archive
   * restores to (`shadow-git`), or for a set that is one archive, entries of its table of contents.
   */
  only?: string[];
  /** Write archives (directory archives, a helper's archive) as the .tar.gz files they are, without unpacking. */
  asArchive?: boolean;
  /** Restore into a directory that holds other things, replacing what has the set's names. */
  force?: boolean;
  progress?: TransferProgress;
  signal?: AbortSignal;
}

export interface RestoredComponent {
  name: string;
  kind: CatalogComponent["kind"];
  /** Bytes read from the bucket and verified. */
  bytes: number;
  sha256: string;
  versionId: string | null;
  /** What now holds it under the target: the file, the directory, or the archive's top-level entries. */
  restoredAs: string[];
  unpacked: boolean;
  /** What tar noted while unpacking (a leading `/` stripped, a device file not created). */
  warnings: string[];
}

export interface RestoreResult {
  id: string;
  source: string;
  to: string;
  components: RestoredComponent[];
  bytes: number;
  seconds: number;
}

/** One component to restore, and for a set that is one archive, which of its entries. */
export interface Selection {
  component: CatalogComponent;
  entries?: string[];
}

/**
 * Restores a dump set (or the part `only` selects) into a directory, in the layout it was backed up from:
 * files under their names, each directory archive unpacked into its directory, a helper's archive unpacked as
 * the helper wrote it. Every component is read at its pinned version and verified while it streams; it is
 * written under a temporary name (unpacked into a temporary directory) and renamed into place only once its
 * last byte verified, so a mismatch or an interruption never leaves anything under a final name that is not
 * the committed bytes. Components are restored one after the other, each in bounded memory.
 */
export async function restoreSet(options: RestoreSetOptions): Promise<RestoreResult> {
  const started = Date.now();
  const { entry } = options;
  assertRestorable(entry);
  const selected = selectComponents(entry, options.only ?? []);
  const to = path.resolve(options.to);
  await prepareTarget(to, entry.id, options.force ?? false);
  const progress = options.progress ?? noProgress;
  progress.start(selected.reduce((sum, s) => sum + s.component.size, 0));
  const components: RestoredComponent[] = [];
  try {
    for (const selection of selected) {
      if (options.signal?.aborted) throw interrupted(selection.component.name, components);
      progress.component(selection.component.name);
      try {
        components.push(await restoreComponent(options, to, selection, progress));
      } catch (error) {
        if (options.signal?.aborted) throw interrupted(selection.component.name, components);
        throw error;
      }
    }
  } finally {
    progress.stop();
  }
  await finishTarget(to);
  return {
    id: entry.id,
    source: entry.source,
    to,
    components,
    bytes: components.reduce((sum, c) => sum + c.bytes, 0),
    seconds: (Date.now() - started) / 1000,
  };
}

export function assertRestorable(entry: DumpSetEntry): void {
  if (entry.status === "COMPLETE") return;
  throw new SetNotRestorableError(
    "set-not-restorable",
    `${entry.id} is ${entry.status}${entry.statusReason ? ` (${entry.statusReason})` : ""}: only COMPLETE sets are ` +
      "restored, whose every component was found intact and pinned",
  );
}

/** The name a component is restored under: a directory archive's directory, anything else its own name. */
export function restoredName(component: Pick<CatalogComponent, "name" | "kind">, asArchive = false): string {
  if (component.kind === "directory-archive" && !asArchive) return component.name.replace(/\.tar\.gz$/, "");
  return component.name;
}

/**
 * What `--only` names, in the set's order. A name is a component (`main.dump`), the directory a directory archive
 * restores to (`shadow-git`), or, in a set that is one archive, a top-level entry of its contents (`main.dump`,
 * `20261203/main.dump`). A name that is none of these is refused, listing what the set holds.
 */
export function selectComponents(entry: DumpSetEntry, only: string[]): Selection[] {
  if (only.length === 0) return entry.components.map((component) => ({ component }));
  const chosen = new Map<string, Selection>();
  for (const wanted of only) {
    const component = entry.components.find((c) => c.name === wanted || restoredName(c) === wanted);
    if (component) {
      chosen.set(component.name, { component });
      continue;
    }
    const inside = entry.components.flatMap((c) => archiveEntryNamed(c, wanted).map((path) => ({ c, path })))[0];
    if (!inside) {
      const names = entry.components.flatMap((c) => [c.name, ...(c.contents ?? []).map((e) => e.path)]);
      throw new InvalidInputError(
        "no-such-component",
        `${entry.id} has no component ${wanted}; it holds ${names.slice(0, 20).join(", ")}${names.length > 20 ? ", …" : ""}`,
      );
    }
    const previous = chosen.get(inside.c.name);
    if (previous && !previous.entries) continue;
    chosen.set(inside.c.name, { component: inside.c, entries: [...(previous?.entries ?? []), inside.path] });
  }
  return entry.components.flatMap((c) => {
    const selection = chosen.get(c.name);
    return selection ? [selection] : [];
  });
}

/** The archive path of a top-level entry of an archive's contents that `wanted` names, by path or last segment. */
export function archiveEntryNamed(component: CatalogComponent, wanted: string): string[] {
  const target = entryPath(wanted);
  const paths = (component.contents ?? []).map((content) => entryPath(content.path));
  const exact = paths.filter((p) => p === target);
  return exact.length > 0 ? exact : paths.filter((p) => p.split("/").pop() === target).slice(0, 1);
}

async function restoreComponent(
  options: RestoreSetOptions,
  to: string,
  selection: Selection,
  progress: TransferProgress,
): Promise<RestoredComponent> {
  const { component } = selection;
  const read = await streamComponent({
    s3: options.s3,
    bucket: options.bucket,
    component,
    onBytes: (count) => progress.advance(count),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const unpack = !options.asArchive && (component.kind === "directory-archive" || component.kind === "archive");
  const warnings: string[] = [];
  const restoredAs = unpack
    ? await unpackComponent(read, to, component, selection.entries, warnings)
    : [await writeVerifiedFile(read, to, component.name)];
  const { sha256, size } = await read.verified;
  return {
    name: component.name,
    kind: component.kind,
    bytes: size,
    sha256,
    versionId: read.versionId,
    restoredAs,
    unpacked: unpack,
    warnings,
  };
}

/** Writes the stream to a temporary name, flushed to disk, and renames it to `name` once the stream verified. */
async function writeVerifiedFile(read: ComponentStream, to: string, name: string): Promise<string> {
  const partial = partialPath(to, name);
  try {
    const handle = await open(partial, "w");
    try {
      await pipeline(read.stream, fileSink(handle));
    } finally {
      await handle.close();
    }
    await read.verified;
    await rename(partial, path.join(to, name));
    return name;
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/**
 * Unpacks an archive into a temporary directory beside its destination, and moves what it holds into place
 * once the archive verified: a directory archive becomes its directory, a helper's archive its own layout.
 */
async function unpackComponent(
  read: ComponentStream,
  to: string,
  component: CatalogComponent,
  entries: string[] | undefined,
  warnings: string[],
): Promise<string[]> {
  const partial = partialPath(to, component.name);
  const filter = entries
    ? (p: string) => entries.some((e) => p === e || p.startsWith(`${e}/`) || e.startsWith(`${p}/`))
    : undefined;
  try {
    await unpackInto(read.stream, partial, { ...(filter ? { filter } : {}), onWarning: (text) => warnings.push(text) });
    await read.verified;
    if (component.kind !== "directory-archive") return await moveEntries(partial, to, entries);
    const directory = restoredName(component);
    await replaceWith(path.join(partial, directory), path.join(to, directory)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
      throw new RestorableError(
        "archive-layout",
        `${component.name} does not hold the directory ${directory}/ that restorable push archives; nothing was restored from it`,
      );
    });
    await rm(partial, { recursive: true, force: true });
    return [directory];
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
}

function interrupted(at: string, done: RestoredComponent[]): RestoreInterruptedError {
  return new RestoreInterruptedError(
    "restore-interrupted",
    `interrupted while restoring ${at} (${done.length} component(s) restored and verified before it); nothing partial ` +
      "was left under a final name. Run the same command again to restart the restore.",
  );
}
