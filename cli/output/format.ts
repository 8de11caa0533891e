/**
 * The CLI's printing primitives. Human output goes to stdout as aligned columns; `--json` output is one
 * JSON document on stdout; warnings go to stderr so stdout stays what scripts read.
 */
export { bytes } from "../upload/progress";

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join("  ")
      .trimEnd();
  process.stdout.write(`${[line(headers), ...rows.map(line)].join("\n")}\n`);
}

/** `label  value` lines, the labels padded to one width (at least `minWidth`), separated by `gap`. */
export function printFields(fields: [string, string][], options: { gap?: string; minWidth?: number } = {}): void {
  const width = Math.max(options.minWidth ?? 0, ...fields.map(([label]) => label.length));
  for (const [label, value] of fields) console.log(`${label.padEnd(width)}${options.gap ?? "  "}${value}`);
}

export function shortTime(iso: string): string {
  return iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "Z");
}

/** restic's ids are shown short, as restic does; dump-set ids are already short. */
export function displayId(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 8) : id;
}

/** `1 file`, `2 files`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** A warning for the person at the terminal, on stderr, so stdout stays what scripts read. */
export function warn(message: string): void {
  process.stderr.write(`restorable: ${message}\n`);
}
