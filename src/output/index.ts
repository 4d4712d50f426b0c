// The output layer. The core emits typed events; a command says, once per
// event kind, what record it is (`toRecord`) and how its anchor tool prints
// it (`toText`); this layer picks the renderer: text in order, or JSON lines
// (the exporter adds OpenMetrics). A command never writes an event twice.
import { jsonLine, type JsonRecord } from './json.js';
import { OrderedOutput } from './text.js';

export { jsonLine, jsonText, roundDuration, type JsonRecord } from './json.js';
export { InOrder, OrderedOutput } from './text.js';

/** Text for an event: a line (or lines) for stdout, maybe later (a name lookup), or for stderr. */
export type Text = string | Promise<string> | { stderr: string | Promise<string> } | null | undefined;

/** How a command presents its events. */
export interface Presenter<E> {
  /** the event as a vocabulary record; null: not a record of its own */
  toRecord(e: E): JsonRecord | null;
  /** the anchor tool's text for the event; null: prints nothing */
  toText(e: E): Text;
}

/** Where events go: text or JSON lines, chosen once per run. */
export interface Renderer<E> {
  emit(e: E): void;
  /** resolves once everything emitted so far is written */
  drain(): Promise<void>;
}

export function textRenderer<E>(p: Presenter<E>, out: OrderedOutput = new OrderedOutput()): Renderer<E> {
  return {
    emit(e) {
      const t = p.toText(e);
      if (t === null || t === undefined) return;
      if (typeof t === 'object' && 'stderr' in t) out.write(t.stderr, process.stderr);
      else out.write(t);
    },
    drain: () => out.drain(),
  };
}

export function jsonRenderer<E>(p: Presenter<E>, stream: NodeJS.WritableStream = process.stdout): Renderer<E> {
  return {
    emit(e) {
      const r = p.toRecord(e);
      if (r) jsonLine(r, stream);
    },
    drain: () => Promise.resolve(),
  };
}

/** The renderer --json asks for. */
export function renderer<E>(p: Presenter<E>, json: boolean): Renderer<E> {
  return json ? jsonRenderer(p) : textRenderer(p);
}
