import { native } from './native';

export interface LibbpfMessage {
  level: 'warn' | 'info' | 'debug';
  text: string;
}

const LEVELS: LibbpfMessage['level'][] = ['warn', 'info', 'debug'];
const MAX_MESSAGES = 2000;

let sink: LibbpfMessage[] | undefined;
let installed = false;

function install(): void {
  if (installed) return;
  const n = native();
  const formatted = new Uint8Array(4096);
  const callback = (level: number, fmt: unknown, ap: unknown): number => {
    if (!sink || sink.length >= MAX_MESSAGES) return 0;
    const len = n.vsnprintf(formatted, formatted.length, fmt, ap);
    const text = Buffer.from(formatted.subarray(0, Math.max(0, Math.min(len, formatted.length - 1)))).toString('utf8');
    for (const line of text.split('\n')) {
      if (line.trim() !== '') sink.push({ level: LEVELS[level] ?? 'debug', text: line.replace(/^libbpf: /, '') });
    }
    return 0;
  };
  n.setPrint(n.koffi.register(callback, n.koffi.pointer(n.printProto as never)));
  installed = true;
}

/** Run fn and return what libbpf printed meanwhile (its print callback is process-wide). */
export function captureLibbpfMessages<T>(fn: () => T): { result: T; messages: LibbpfMessage[] } {
  install();
  const previous = sink;
  const messages: LibbpfMessage[] = [];
  sink = messages;
  try {
    return { result: fn(), messages };
  } finally {
    sink = previous;
  }
}
