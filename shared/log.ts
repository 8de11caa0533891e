type Attributes = Record<string, unknown>;

/** The logging the domain needs; Powertools' Logger satisfies it, and so does a console adapter. */
export interface Log {
  debug(message: string, ...extra: Attributes[]): void;
  info(message: string, ...extra: Attributes[]): void;
  warn(message: string, ...extra: Attributes[]): void;
  error(message: string, ...extra: Attributes[]): void;
}

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };
