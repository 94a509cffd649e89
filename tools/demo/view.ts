// The demo's terminal view: weights as bars, each gate against its threshold,
// the phase and the Events as they happen. On a terminal it redraws in place;
// otherwise (CI, --plain) it prints one line per change.
export interface GateView {
  name: string;
  value?: number | undefined;
  threshold: string;
  verdict: string;
}

export interface ViewState {
  title: string;
  phase: string;
  step: string;
  weights: Record<string, number>;
  gates: GateView[];
  message: string;
  events: string[];
}

const BAR = 40;
const MARK: Record<string, string> = { Pass: 'ok  ', Fail: 'FAIL', Inconclusive: 'wait', Error: 'ERR ' };

export function renderBars(weights: Record<string, number>): string[] {
  return Object.entries(weights).map(([subset, w]) => {
    const filled = Math.round((w / 100) * BAR);
    return `  ${subset.padEnd(4)} ${'█'.repeat(filled)}${'░'.repeat(BAR - filled)} ${String(w).padStart(3)}%`;
  });
}

export function renderGates(gates: GateView[]): string[] {
  if (gates.length === 0) return ['  gates: waiting for the first analysis round'];
  return gates.map((g) => `  [${MARK[g.verdict] ?? g.verdict}] ${g.name.padEnd(8)} ${g.value === undefined ? 'no data' : String(g.value).padStart(7)}   (${g.threshold})`);
}

export function renderView(s: ViewState): string {
  return [
    `${s.title}   phase: ${s.phase}   step: ${s.step}`,
    ...renderBars(s.weights),
    ...renderGates(s.gates),
    `  ${s.message}`,
    '  Events:',
    ...s.events.slice(-6).map((e) => `    ${e}`),
  ].join('\n');
}

export function plainLine(s: ViewState): string {
  const weights = Object.entries(s.weights).map(([k, v]) => `${k}=${v}%`).join(' ');
  const gates = s.gates.map((g) => `${g.name}=${g.value ?? '-'}(${g.verdict})`).join(' ');
  return `${s.phase.padEnd(11)} step ${s.step.padEnd(4)} ${weights.padEnd(22)} ${gates}`;
}

export class LiveView {
  private lastPlain = '';
  private drawnLines = 0;
  private printedEvents = 0;

  constructor(private readonly tty: boolean) {}

  update(s: ViewState): void {
    if (this.tty) {
      // Lines longer than the terminal would wrap and break the redraw, so they are cut to fit.
      const width = Math.max(40, (process.stdout.columns ?? 120) - 1);
      const text = renderView(s).split('\n').map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l)).join('\n');
      if (this.drawnLines) process.stdout.write(`\x1b[${this.drawnLines}A\x1b[0J`);
      process.stdout.write(`${text}\n`);
      this.drawnLines = text.split('\n').length;
      return;
    }
    for (const e of s.events.slice(this.printedEvents)) process.stdout.write(`  event ${e}\n`);
    this.printedEvents = s.events.length;
    const line = plainLine(s);
    if (line !== this.lastPlain) process.stdout.write(`${line}\n`);
    this.lastPlain = line;
  }

  /** Leaves the last drawing on screen; the next release draws below it. */
  freeze(): void {
    this.drawnLines = 0;
    this.printedEvents = 0;
    this.lastPlain = '';
  }

  note(text: string): void {
    process.stdout.write(`${text}\n`);
  }
}
