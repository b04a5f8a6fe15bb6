import cliProgress from 'cli-progress';

/** Everything a command prints goes through here: results on stdout, the rest on stderr. */
export interface Output {
  json: boolean;
  /** Prints the command's one JSON document (with --json) or its human text. */
  result(value: unknown, human: () => string): void;
  /** A note for the human on stderr; silent with --json. */
  note(text: string): void;
  warn(text: string): void;
}

export function createOutput(json: boolean, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Output {
  return {
    json,
    result(value, human) {
      stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : human() + '\n');
    },
    note(text) {
      if (!json) stderr.write(text + '\n');
    },
    warn(text) {
      stderr.write(`warning: ${text}\n`);
    },
  };
}

export interface Progress {
  update(values: Record<string, number | string>): void;
  stop(): void;
}

/** A live line on stderr when it is a terminal; nothing at all on a pipe or file. */
export function createProgress(format: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar({ format, stream, hideCursor: true, clearOnComplete: true, fps: 8 }, cliProgress.Presets.shades_classic);
  bar.start(1, 0);
  return {
    update: (values) => bar.update(0, values),
    stop: () => bar.stop(),
  };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

/** A left-aligned table with a header row. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
