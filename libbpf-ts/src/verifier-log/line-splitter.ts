/** Turns chunks (text, or UTF-8 bytes split anywhere) into lines, with bounded memory per line. */

/** Longer lines are cut to this many characters (no verifier line comes near it). */
export const MAX_LINE = 64 * 1024;

export class LineSplitter {
  lineCount = 0;
  byteCount = 0;
  private readonly decoder = new TextDecoder('utf-8');
  private carry = '';
  private carryOverflow = false;
  /** A NUL ends the log: what follows in a C buffer is not log text. */
  private ended = false;

  constructor(private readonly onLine: (line: string) => void) {}

  write(chunk: string | Uint8Array): void {
    if (this.ended) return;
    if (typeof chunk === 'string') {
      this.byteCount += Buffer.byteLength(chunk);
      this.push(this.decoder.decode() + chunk);
    } else {
      this.byteCount += chunk.byteLength;
      this.push(this.decoder.decode(chunk, { stream: true }));
    }
  }

  end(): void {
    if (!this.ended) this.push(this.decoder.decode());
    if (this.carry.length > 0 || this.carryOverflow) this.emit(this.carry);
    this.carry = '';
    this.carryOverflow = false;
  }

  private push(text: string): void {
    if (this.ended || text.length === 0) return;
    const nul = text.indexOf('\0');
    if (nul >= 0) {
      this.ended = true;
      text = text.slice(0, nul);
    }
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      this.append(text, start, nl);
      this.emit(this.carry);
      this.carry = '';
      this.carryOverflow = false;
      start = nl + 1;
    }
    this.append(text, start, text.length);
  }

  private append(text: string, from: number, to: number): void {
    const room = MAX_LINE - this.carry.length;
    if (to - from > room) {
      to = from + room;
      this.carryOverflow = true;
    }
    if (to > from) this.carry = this.carry.length === 0 ? text.slice(from, to) : this.carry + text.slice(from, to);
  }

  private emit(line: string): void {
    this.lineCount++;
    this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  }
}
