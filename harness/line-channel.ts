/** Lines awaited one at a time with a deadline: from a readable stream (LineChannel) or pushed by hand (LineQueue). */
import type { Readable } from "node:stream";

export class LineQueue {
  private readonly lines: string[] = [];
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

/** The stream's lines, queued, or handed to onLine when given. */
export class LineChannel extends LineQueue {
  private buffered = "";

  constructor(stream: Readable, private readonly onLine?: (line: string) => void) {
    super();
    stream.setEncoding("latin1");
    stream.on("data", (chunk: string) => {
      this.buffered += chunk;
      let newline;
      while ((newline = this.buffered.indexOf("\n")) >= 0) {
        const line = this.buffered.slice(0, newline);
        this.buffered = this.buffered.slice(newline + 1);
        if (this.onLine) this.onLine(line);
        else this.push(line);
      }
    });
    stream.on("end", () => this.end());
  }
}
