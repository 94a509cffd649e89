// Text from the API server (status messages, Event messages, annotation
// values, error bodies) is written by whoever can write those objects. On a
// terminal, control characters in it could clear the screen, rewrite earlier
// lines (\r), set the clipboard (OSC 52), retitle the window, or reorder
// text (bidi overrides). Every server-provided string goes through
// terminalSafe before the plugin lays it out.
import type { ReleaseApi } from './release-api.js';

// ESC-introduced sequences: CSI (ESC [ ... final byte), OSC (ESC ] ... BEL or
// ST), DCS/SOS/PM/APC (ESC P|X|^|_ ... ST), and two-byte escapes (ESC + one
// character). An unterminated string sequence runs to the end of the text.
const ESCAPE_SEQUENCE = /\x1b(?:\[[0-?]*[ -/]*[@-~]?|[\]PX^_][\s\S]*?(?:\x07|\x1b\\|$)|[ -~]?)/g;
// C1 controls (U+0080-U+009F, which include 8-bit CSI and OSC), DEL, and the
// C0 controls except \n.
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/g;
// Bidirectional overrides, embeddings, isolates and marks; line and paragraph separators.
const BIDI_AND_SEPARATORS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

export interface TerminalSafeOptions {
  /** Keep \n (for text the plugin lays out over several lines itself); default: newlines become spaces. */
  keepNewlines?: boolean;
}

/** The text with every escape sequence and control character removed; tabs and (by default) newlines become spaces. */
export function terminalSafe(text: string, opts: TerminalSafeOptions = {}): string {
  let out = text.replace(ESCAPE_SEQUENCE, '').replace(/\t/g, ' ');
  if (!opts.keepNewlines) out = out.replace(/\r?\n/g, ' ');
  return out.replace(CONTROL, '').replace(BIDI_AND_SEPARATORS, '');
}

/**
 * A copy of a value read from the API with terminalSafe applied to every
 * string in it (object keys too); Dates, numbers and booleans stay as they are.
 */
export function terminalSafeDeep<T>(value: T): T {
  return clean(value) as T;
}

function clean(value: unknown): unknown {
  if (typeof value === 'string') return terminalSafe(value);
  if (Array.isArray(value)) return value.map(clean);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [terminalSafe(k), clean(v)]));
}

/** The plugin's view of the cluster with every string it reads made terminal-safe, before any renderer sees it. */
export function terminalSafeApi(api: ReleaseApi): ReleaseApi {
  return {
    get: async (namespace, name) => terminalSafeDeep(await api.get(namespace, name)),
    list: async (namespace) => terminalSafeDeep(await api.list(namespace)),
    mergePatch: async (namespace, name, body) => terminalSafeDeep(await api.mergePatch(namespace, name, body)),
    events: async (release) => terminalSafeDeep(await api.events(release)),
  };
}
