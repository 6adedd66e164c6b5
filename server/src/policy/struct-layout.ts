/**
 * C struct layouts written down in TypeScript, for encoding and decoding map keys and values. Each layout
 * mirrors a struct of a template header; the template tests compare every layout with the compiled
 * object's BTF (struct size, member names, offsets and sizes), so the two cannot drift apart silently.
 * Numbers are little-endian (the BPF target of x86-64 and arm64); network-order fields are written as
 * raw bytes or with the *Be methods.
 */

export interface FieldLayout {
  readonly offset: number;
  readonly size: number;
}

export interface StructLayout<F extends string = string> {
  /** The C struct's name (without `struct`). */
  readonly name: string;
  readonly size: number;
  readonly fields: Readonly<Record<F, FieldLayout>>;
}

export function defineStruct<F extends string>(name: string, size: number, fields: Record<F, readonly [offset: number, size: number]>): StructLayout<F> {
  const out = {} as Record<F, FieldLayout>;
  for (const key of Object.keys(fields) as F[]) out[key] = { offset: fields[key][0], size: fields[key][1] };
  return { name, size, fields: out };
}

function field<F extends string>(layout: StructLayout<F>, name: F, size: number): FieldLayout {
  const f = layout.fields[name];
  if (f.size !== size) throw new Error(`struct ${layout.name}.${name} is ${f.size} bytes, not ${size}`);
  return f;
}

/** Fills one struct's bytes field by field; unwritten bytes (padding) stay zero. */
export class StructWriter<F extends string> {
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(private readonly layout: StructLayout<F>) {
    this.bytes = new Uint8Array(layout.size);
    this.view = new DataView(this.bytes.buffer);
  }

  u8(name: F, value: number): this {
    this.view.setUint8(field(this.layout, name, 1).offset, value);
    return this;
  }

  u32(name: F, value: number): this {
    this.view.setUint32(field(this.layout, name, 4).offset, value, true);
    return this;
  }

  /** A 16-bit number in network byte order (ports). */
  u16Be(name: F, value: number): this {
    this.view.setUint16(field(this.layout, name, 2).offset, value, false);
    return this;
  }

  /** Raw bytes into a field of exactly that size (addresses, nested structs). */
  raw(name: F, bytes: Uint8Array): this {
    this.bytes.set(bytes, field(this.layout, name, bytes.length).offset);
    return this;
  }
}

/** Reads fields of one struct's bytes. */
export class StructReader<F extends string> {
  private readonly view: DataView;

  constructor(private readonly layout: StructLayout<F>, private readonly bytes: Uint8Array) {
    if (bytes.length < layout.size) throw new Error(`struct ${layout.name} needs ${layout.size} bytes, got ${bytes.length}`);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  u8(name: F): number {
    return this.view.getUint8(field(this.layout, name, 1).offset);
  }

  u32(name: F): number {
    return this.view.getUint32(field(this.layout, name, 4).offset, true);
  }

  u16Be(name: F): number {
    return this.view.getUint16(field(this.layout, name, 2).offset, false);
  }

  raw(name: F): Uint8Array {
    const f = this.layout.fields[name];
    return this.bytes.slice(f.offset, f.offset + f.size);
  }
}
