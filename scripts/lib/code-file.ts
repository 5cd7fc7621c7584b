import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { fieldOf, type FileFormat } from './code-format.ts';

export { detectFormat, fieldOf, splitFields, type FileFormat } from './code-format.ts';

/**
 * Reading a file of codes a chunk at a time, in constant memory, with the
 * byte offset where each chunk ends so that a resumed load seeks straight
 * past what is done. The formats accepted: code-format.ts.
 */

/** One code read from the file: its 1-based line number and the text of its field, trimmed. */
export interface Entry {
  line: number;
  code: string;
}

export interface Chunk {
  index: number;
  entries: Entry[];
  /** Lines consumed, including blank lines and the header. */
  lines: number;
  blank: number;
  header: number;
  /** Byte offset just after the chunk's last line: where the next chunk starts. */
  endByte: number;
  /** Line number of the next chunk's first line minus one. */
  endLine: number;
}

/** The first line of a file (up to 64 KiB), for format detection. */
export async function readFirstLine(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    const text = buf.subarray(0, bytesRead);
    const nl = text.indexOf(10);
    return text.subarray(0, nl < 0 ? bytesRead : nl).toString('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Yields chunks of up to `chunkSize` codes, starting at `startByte` (a line
 * boundary: 0 or a previous chunk's `endByte`) which is line `startLine + 1`.
 * Pulled lazily: while the consumer waits, the file is not read further.
 */
export async function* readChunks(
  path: string,
  options: { format: FileFormat; chunkSize: number; startByte: number; startLine: number; startIndex: number },
): AsyncGenerator<Chunk> {
  const { format, chunkSize } = options;
  let index = options.startIndex;
  let lineNo = options.startLine;
  let byte = options.startByte;
  let chunk: Chunk = { index, entries: [], lines: 0, blank: 0, header: 0, endByte: byte, endLine: lineNo };
  let rest: Buffer | null = null;

  const take = (raw: string, nextByte: number): Chunk | null => {
    lineNo++;
    chunk.lines++;
    let text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (lineNo === 1) text = text.replace(/^\uFEFF/, '');
    if (lineNo === 1 && format.header) chunk.header++;
    else {
      const code = fieldOf(text, format);
      if (code === '') chunk.blank++;
      else chunk.entries.push({ line: lineNo, code });
    }
    chunk.endByte = nextByte;
    chunk.endLine = lineNo;
    if (chunk.entries.length < chunkSize) return null;
    const full = chunk;
    chunk = { index: ++index, entries: [], lines: 0, blank: 0, header: 0, endByte: nextByte, endLine: lineNo };
    return full;
  };

  for await (const piece of createReadStream(path, { start: options.startByte, highWaterMark: 1 << 20 })) {
    const buf: Buffer = rest ? Buffer.concat([rest, piece as Buffer]) : (piece as Buffer);
    let from = 0;
    for (;;) {
      const nl = buf.indexOf(10, from);
      if (nl < 0) break;
      const full = take(buf.toString('utf8', from, nl), byte + (nl + 1 - from));
      byte += nl + 1 - from;
      from = nl + 1;
      if (full) yield full;
    }
    rest = from < buf.length ? buf.subarray(from) : null;
    if (rest) rest = Buffer.from(rest); // do not pin the whole read buffer
  }
  if (rest?.length) {
    const full = take(rest.toString('utf8'), byte + rest.length);
    byte += rest.length;
    if (full) yield full;
  }
  if (chunk.lines > 0) yield chunk;
}
