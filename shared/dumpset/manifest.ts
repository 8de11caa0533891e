import * as z from "zod";
import { ComponentNameSchema, SetIdSchema, SourceNameSchema } from "../contracts/layout";
import { S3ChecksumSchema } from "./s3-checksum";

export const MANIFEST_FORMAT = "restorable.dumpset/v1";

export const Sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, "not a lowercase hex SHA-256");

/**
 * - file: a file of the backup directory, uploaded as is
 * - directory-archive: a directory of the backup directory, uploaded as one gzip-compressed tar
 * - pg-dump: a `pg_dump -Fc` archive (also used for main.dump in a pushed directory)
 * - archive: a whole backup as one `.tar.gz`/`.tar` file (the helper's `codebolt admin backup --output …`),
 *   uploaded as is; its `contents` say what is inside
 */
export const ComponentKindSchema = z.enum(["file", "directory-archive", "pg-dump", "archive"]);
export type ComponentKind = z.infer<typeof ComponentKindSchema>;

/**
 * One line of an archive's table of contents: a top-level entry (below the archive's single root directory,
 * when it has one), a directory summed up as the bytes and number of its files.
 */
export const ArchiveContentSchema = z.object({
  path: z.string().min(1).max(1024),
  type: z.enum(["file", "directory", "symlink", "other"]),
  size: z.number().int().nonnegative(),
  /** For a directory: how many files it holds, at any depth. */
  files: z.number().int().nonnegative().optional(),
});
export type ArchiveContent = z.infer<typeof ArchiveContentSchema>;

/** A table of contents stays small enough for a manifest and a catalog item, whatever the archive holds. */
export const MAX_ARCHIVE_CONTENTS = 200;

export const ManifestComponentSchema = z.object({
  name: ComponentNameSchema,
  key: z.string().min(1),
  kind: ComponentKindSchema,
  size: z.number().int().nonnegative(),
  sha256: Sha256HexSchema,
  /**
   * The checksum S3 computed for the upload (full-object or composite), which the indexer compares with
   * what S3 reports. Absent from manifests of uploaders before 0.2, whose SHA-256 lives in an object tag.
   */
  checksum: S3ChecksumSchema.optional(),
  /** What an `archive` holds; absent for the other kinds. */
  contents: z.array(ArchiveContentSchema).max(MAX_ARCHIVE_CONTENTS).optional(),
});
export type ManifestComponent = z.infer<typeof ManifestComponentSchema>;

/**
 * Our manifest, written LAST into the set's prefix: its arrival marks the set complete.
 * snake_case because it is a document people read next to the seed's manifest.txt.
 */
export const SetManifestSchema = z
  .object({
    format: z.literal(MANIFEST_FORMAT),
    source: SourceNameSchema,
    set_id: SetIdSchema,
    created_at: z.iso.datetime({ offset: true }),
    hostname: z.string().min(1).max(255),
    server_version: z.string().max(255).nullable(),
    master_key_id: z.string().max(255).nullable(),
    tags: z.array(z.string().min(1).max(255)).max(50),
    components: z.array(ManifestComponentSchema).min(1).max(1000),
    /** What the host's own manifest.txt said, kept for the restore steps that read it. */
    host_manifest: z.record(z.string(), z.string()).nullable(),
    uploader: z.object({ program: z.string(), version: z.string() }),
  })
  .superRefine((manifest, ctx) => {
    const names = new Set<string>();
    for (const [index, component] of manifest.components.entries()) {
      if (names.has(component.name)) {
        ctx.addIssue({ code: "custom", path: ["components", index, "name"], message: "duplicate component name" });
      }
      names.add(component.name);
    }
  });
export type SetManifest = z.infer<typeof SetManifestSchema>;
