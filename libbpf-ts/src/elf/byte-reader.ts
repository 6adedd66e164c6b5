/**
 * Bounds-checked reads over a byte buffer. Every read returns undefined instead of throwing when
 * it would leave the buffer, so parsers of untrusted input can report a problem and go on.
 */
export class ByteReader {
  readonly bytes: Uint8Array;
  readonly littleEndian: boolean;
  private readonly view: DataView;

  constructor(bytes: Uint8Array, littleEndian: boolean) {
    this.bytes = bytes;
    this.littleEndian = littleEndian;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.byteLength;
  }

  /** True when [offset, offset + size) lies inside the buffer. */
  has(offset: number, size: number): boolean {
    return Number.isSafeInteger(offset) && Number.isSafeInteger(size) && offset >= 0 && size >= 0 && offset + size <= this.length;
  }

  u8(offset: number): number | undefined {
    return this.has(offset, 1) ? this.view.getUint8(offset) : undefined;
  }

  u16(offset: number): number | undefined {
    return this.has(offset, 2) ? this.view.getUint16(offset, this.littleEndian) : undefined;
  }

  u32(offset: number): number | undefined {
    return this.has(offset, 4) ? this.view.getUint32(offset, this.littleEndian) : undefined;
  }

  i32(offset: number): number | undefined {
    return this.has(offset, 4) ? this.view.getInt32(offset, this.littleEndian) : undefined;
  }

  /** A 64-bit unsigned value as a number; values above 2^53 lose precision (offsets and sizes never get there). */
  u64(offset: number): number | undefined {
    return this.has(offset, 8) ? Number(this.view.getBigUint64(offset, this.littleEndian)) : undefined;
  }

  /** A copy-free view of [offset, offset + size), or undefined when it leaves the buffer. */
  slice(offset: number, size: number): Uint8Array | undefined {
    return this.has(offset, size) ? this.bytes.subarray(offset, offset + size) : undefined;
  }

  /**
   * The NUL-terminated string at offset, cut at `limit` (default: the end of the buffer) when unterminated;
   * undefined when offset is outside the buffer.
   */
  cString(offset: number, limit = this.length): string | undefined {
    if (!this.has(offset, 0)) return undefined;
    const stop = Math.min(limit, this.length);
    let end = offset;
    while (end < stop && this.bytes[end] !== 0) end++;
    return latin1OrUtf8(this.bytes.subarray(offset, end));
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** Decodes UTF-8, falling back to Latin-1 for byte sequences that are not valid UTF-8. */
export function latin1OrUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return latin1.decode(bytes);
  }
}
