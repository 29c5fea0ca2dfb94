/** Lines awaited one at a time with a deadline: from a readable stream (LineChannel) or pushed by hand (LineQueue). */
import type { Readable } from "node:stream";

export class LineQueue {
  protected readonly lines: string[] = [];
  private waiter: ((line: string | undefined) => void) | undefined;
  private ended = false;

  push(line: string): void {
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter(line);
    } else this.lines.push(line);
  }

  /** No more lines will come: a waiting next() resolves undefined. */
  end(): void {
    this.ended = true;
    this.waiter?.(undefined);
  }

  /** The next line; undefined at end of stream; "timeout" past the deadline. */
  next(timeoutMs: number): Promise<string | undefined | "timeout"> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve("timeout");
      }, timeoutMs);
      this.waiter = (value) => {
        clearTimeout(timer);
        resolve(value);
      };
    });
  }
}

/**
 * The longest line a driver may send (docs/protocol.md, Transport): well
 * above the largest answer (a report of an environment that fills the
 * argument space, hex-encoded), far below what would exhaust the harness.
 */
export const maxLineBytes = 32 << 20;

/** A line went past the limit: said at once, not at the case's deadline. */
export class LineTooLongError extends Error {
  constructor(readonly limit: number, readonly head: string) {
    super(`line longer than ${limit} bytes (the protocol's limit)`);
  }
}

/** How many of a line's first characters a limit given as a function sees. */
export const lineHeadLength = 16;

/**
 * A line's length limit: one for every line, or one chosen by the line's
 * first lineHeadLength characters (fewer while the line is shorter), for a
 * stream that carries answers and logs in one (the system tier's console).
 */
export type LineLimit = number | ((head: string) => number);

/**
 * The stream's lines, queued, or handed to onLine when given. A queued line
 * past its limit makes the waiting (or next) next() throw LineTooLongError
 * and stops reading; one handed to onLine is cut at its limit (the rest of
 * it is dropped, and onLine is told it was cut), since those channels carry
 * logs, not answers.
 */
export class LineChannel extends LineQueue {
  private pending: string[] = [];
  private pendingLength = 0;
  /** Dropping an over-long logged line up to its end. */
  private skipping = false;
  private tooLong: LineTooLongError | undefined;
  /** The first lineHeadLength characters of the line being read. */
  private head = "";

  constructor(
    private readonly stream: Readable,
    private readonly onLine?: (line: string, cut: boolean) => void,
    private readonly maxLength: LineLimit = maxLineBytes,
  ) {
    super();
    stream.setEncoding("latin1");
    stream.on("data", (chunk: string) => this.take(chunk));
    stream.on("end", () => this.end());
  }

  override next(timeoutMs: number): Promise<string | undefined | "timeout"> {
    // The lines before the over-long one are answers like any other.
    if (this.tooLong && !this.lines.length) return Promise.reject(this.tooLong);
    return super.next(timeoutMs).then((line) => {
      if (line === undefined && this.tooLong) throw this.tooLong;
      return line;
    });
  }

  private take(chunk: string): void {
    if (this.tooLong) return;
    let from = 0;
    // Only the new chunk is searched: an 80 MB line costs one pass, not one per chunk.
    for (let newline; (newline = chunk.indexOf("\n", from)) >= 0; from = newline + 1) {
      const piece = chunk.slice(from, newline);
      if (!this.append(piece)) return;
      const line = this.pending.join("");
      const skipped = this.skipping;
      this.pending = [];
      this.pendingLength = 0;
      this.head = "";
      this.skipping = false;
      if (skipped) continue;
      if (this.onLine) this.onLine(line, false);
      else this.push(line);
    }
    this.append(chunk.slice(from));
  }

  /** Adds to the line being read; false once a queued line is too long (reading stops). */
  private append(piece: string): boolean {
    if (this.skipping) return true;
    if (this.head.length < lineHeadLength) this.head += piece.slice(0, lineHeadLength - this.head.length);
    const limit = typeof this.maxLength === "number" ? this.maxLength : this.maxLength(this.head);
    if (this.pendingLength + piece.length <= limit) {
      this.pending.push(piece);
      this.pendingLength += piece.length;
      return true;
    }
    const head = this.pending.join("").slice(0, 120) + piece.slice(0, 120);
    if (this.onLine) {
      this.pending.push(piece.slice(0, Math.max(0, limit - this.pendingLength)));
      this.onLine(this.pending.join(""), true);
      this.pending = [];
      this.pendingLength = 0;
      this.skipping = true;
      return true;
    }
    this.tooLong = new LineTooLongError(limit, head);
    this.pending = [];
    this.stream.pause();
    this.end();
    return false;
  }
}
