/**
 * A trace that cannot be read as asked. The message always says where
 * (`FILE:LINE:` or `FILE:` when no single line is to blame), what was wrong
 * and what to do, so a CLI can print it as is.
 */
export class TraceError extends Error {
  readonly file: string;
  /** 1-based; null when the problem is the file as a whole. */
  readonly line: number | null;

  constructor(file: string, line: number | null, problem: string, remedy: string) {
    super(`${line === null ? file : `${file}:${line}`}: ${problem}; ${remedy}`);
    this.name = 'TraceError';
    this.file = file;
    this.line = line;
  }
}
