import { Presets, SingleBar } from "cli-progress";

/** How a long transfer reports itself: a bar on a terminal, nothing otherwise. */
export interface TransferProgress {
  start(totalBytes: number | undefined): void;
  component(name: string): void;
  advance(bytes: number): void;
  stop(): void;
}

export const noProgress: TransferProgress = { start() {}, component() {}, advance() {}, stop() {} };

export function progressFor(stream: NodeJS.WriteStream, enabled: boolean): TransferProgress {
  if (!enabled || !stream.isTTY) return noProgress;
  let bar: SingleBar | undefined;
  let total = 0;
  let done = 0;
  let name = "";
  let startedAt = Date.now();
  return {
    start(totalBytes) {
      total = totalBytes ?? 0;
      startedAt = Date.now();
      bar = new SingleBar(
        {
          stream,
          // {total}, {value} and {eta} are cli-progress's own tokens and a payload cannot override them, so
          // the byte counts travel as {done} and {size}.
          format: " {bar} {percentage}% | {done} of {size} | {speed} | ETA {eta_formatted} | {name}",
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 50,
        },
        Presets.shades_classic,
      );
      bar.start(Math.max(total, 1), 0, { done: bytes(0), size: total ? bytes(total) : "?", speed: "", name });
    },
    component(componentName) {
      name = componentName;
      bar?.update({ name });
    },
    advance(count) {
      done += count;
      // Compressed archives can come out larger than the estimate; grow the total rather than overflow.
      if (done > total) {
        total = done;
        bar?.setTotal(total);
      }
      const elapsed = (Date.now() - startedAt) / 1000;
      bar?.update(done, {
        done: bytes(done),
        size: bytes(total),
        speed: elapsed > 0 ? `${bytes(done / elapsed)}/s` : "",
        name,
      });
    },
    stop() {
      bar?.stop();
    },
  };
}

export function bytes(count: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
