/**
 * A line-protocol request body being parsed: its bytes cut into lines (line-split.ts), each
 * line parsed from its bytes into columns (line-bytes.ts, line-columns.ts), cut into windows
 * of `windowPoints` points, and the refused lines with their line numbers, messages and text.
 * The same state runs on the request's thread (parse threads 0, small bodies) and in a parse
 * worker (parse-worker.ts): both give the same windows and errors for the same bytes.
 */
import { excerpt, LineSplitter, type LineTarget } from './line-split.js';
import { LineError } from './line-protocol.js';
import { LineBytesParser } from './line-bytes.js';
import { LineColumns, type LineWindow } from './line-columns.js';
import type { PointError } from './points.js';

/** Longest line accepted (a longer one is that line's error). */
export const LINE_BYTES_MAX = 1024 * 1024;

/** A refused line; `text` is its start when the parser refused it (points refused by their table carry none). */
export interface BadLine extends PointError {
  text?: string;
}

/** What a body is parsed with: the request's precision and time, and where windows are cut. */
export interface LineBodyOptions {
  /** Nanoseconds per timestamp unit (0n: auto, v3). */
  unitNs: bigint;
  /** Epoch ns of points without a timestamp (the request's time at its precision). */
  now: bigint;
  /** A window is cut when it holds this many points (Infinity: one window for the whole body). */
  windowPoints: number;
}

export class LineBody {
  /** Lines seen (points and refused lines; blank lines and comments are not counted). */
  parsed = 0;
  readonly errors: BadLine[] = [];
  /** Full windows not yet taken, in body order. */
  private readonly full: LineColumns[] = [];
  private points = new LineColumns();
  private readonly splitter = new LineSplitter(LINE_BYTES_MAX);
  private readonly target: LineTarget;

  constructor(readonly options: LineBodyOptions) {
    const parser = new LineBytesParser({ unitNs: options.unitNs, now: options.now });
    this.target = {
      line: (buf, start, end, line) => {
        try {
          if (parser.parse(buf, start, end, line, this.points)) {
            this.parsed++;
            if (this.points.rows >= options.windowPoints) { this.full.push(this.points); this.points = new LineColumns(); }
          }
        } catch (error) {
          if (!(error instanceof LineError)) throw error;
          this.parsed++;
          this.errors.push({ line, message: `${error.message} (column ${error.column + 1})`, text: excerpt(buf, start, end) });
        }
      },
      error: (line, message, text) => { this.errors.push({ line, message, text }); this.parsed++; },
    };
  }

  /** Points parsed and not yet taken (full windows and the open one). */
  get rows(): number {
    let n = this.points.rows;
    for (const w of this.full) n += w.rows;
    return n;
  }

  /** Parses the lines `chunk` completes. */
  push(chunk: Buffer): void {
    this.splitter.pushTo(chunk, this.target);
  }

  /** Parses the body's last line (the body ended). */
  end(): void {
    this.splitter.endTo(this.target);
  }

  /** The full windows (each `windowPoints` points), taken: the parser forgets them. */
  takeFull(): LineColumns[] {
    return this.full.splice(0);
  }

  /** Every point not yet taken as windows (after end(): the last, partial window, when it holds any). */
  takeAll(): LineColumns[] {
    const out = this.takeFull();
    if (this.points.rows > 0) out.push(this.points);
    this.points = new LineColumns();
    return out;
  }
}

/** What a write route reads a body through: parsed on its own thread (inlineParse) or in a parse worker (ParsePool.open). */
export interface BodyParse {
  /** Takes the next body bytes: the windows filled so far (in body order), and the points held not yet taken. */
  push(chunk: Buffer): Promise<{ windows: LineWindow[]; rows: number }> | { windows: LineWindow[]; rows: number };
  /** The body ended: the last windows, every refused line, and the lines seen. */
  end(): Promise<BodyEnd> | BodyEnd;
  /** Forgets the body (after end(), or when the request failed part way). */
  close(): void;
}

export interface BodyEnd {
  windows: LineWindow[];
  errors: BadLine[];
  parsed: number;
}

/** Parses on the calling thread. */
export function inlineParse(options: LineBodyOptions): BodyParse {
  const body = new LineBody(options);
  return {
    push(chunk) { body.push(chunk); return { windows: body.takeFull(), rows: body.rows }; },
    end() { body.end(); return { windows: body.takeAll(), errors: body.errors, parsed: body.parsed }; },
    close() {},
  };
}
