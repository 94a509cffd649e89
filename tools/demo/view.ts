// The demo's terminal view: weights as bars, phase, message and Events. On a
// terminal it redraws in place; otherwise (CI, --plain) it prints only changes.
export interface ViewState {
  release: string;
  phase: string;
  step: string;
  weights: Record<string, number>;
  message: string;
  events: string[];
}

const BAR = 40;

export function renderBars(weights: Record<string, number>): string[] {
  return Object.entries(weights).map(([subset, w]) => {
    const filled = Math.round((w / 100) * BAR);
    return `  ${subset.padEnd(4)} ${'█'.repeat(filled)}${'░'.repeat(BAR - filled)} ${String(w).padStart(3)}%`;
  });
}

export function renderView(s: ViewState): string {
  return [
    `CanaryRelease ${s.release}   phase: ${s.phase}   step: ${s.step}`,
    ...renderBars(s.weights),
    `  ${s.message}`,
    '  Events:',
    ...s.events.slice(-6).map((e) => `    ${e}`),
  ].join('\n');
}

export class LiveView {
  private lastPlain = '';
  private drawnLines = 0;

  constructor(private readonly tty: boolean) {}

  update(s: ViewState): void {
    if (this.tty) {
      const text = renderView(s);
      if (this.drawnLines) process.stdout.write(`\x1b[${this.drawnLines}A\x1b[0J`);
      process.stdout.write(`${text}\n`);
      this.drawnLines = text.split('\n').length;
      return;
    }
    const line = `${s.phase.padEnd(11)} step ${s.step.padEnd(4)} ${Object.entries(s.weights).map(([k, v]) => `${k}=${v}%`).join(' ')}  ${s.message}`;
    if (line !== this.lastPlain) process.stdout.write(`${line}\n`);
    this.lastPlain = line;
  }

  /** Leaves the last drawing on screen; the next update starts below it. */
  freeze(): void {
    this.drawnLines = 0;
  }

  note(text: string): void {
    process.stdout.write(`${text}\n`);
  }
}
