// Progress for long CLI work: a bar on a terminal, a log line every few seconds otherwise (CI logs
// and Kubernetes pods would only collect a bar's carriage returns).
// CommonJS: its Format helper is not a named export Node can see, so the namespace is taken whole.
import cliProgress from 'cli-progress';

const { Format, Presets, SingleBar } = cliProgress;

const LOG_EVERY_MS = 5000;
const RUNNING = '{label} [{bar}] {value}/{total} {percentage}% eta {eta_formatted}';
// A finished bar has no time left to estimate (the library would print a placeholder).
const DONE = '{label} [{bar}] {value}/{total} {percentage}%';

export interface Progress {
  update(label: string, done: number, total: number): void;
  stop(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY) {
    const bar = new SingleBar(
      {
        format: (options, params, payload) =>
          Format.Formatter(
            { ...options, format: params.value >= params.total ? DONE : RUNNING },
            params,
            payload,
          ),
        stream,
        hideCursor: true,
      },
      Presets.shades_classic,
    );
    let started = false;
    return {
      update(label, done, total) {
        if (!started) {
          bar.start(total, done, { label });
          started = true;
        }
        bar.setTotal(total);
        bar.update(done, { label });
      },
      // Idempotent: the CLI stops the bar before its summary and again on every way out.
      stop() {
        if (started) bar.stop();
        started = false;
      },
    };
  }
  let last = 0;
  return {
    update(label, done, total) {
      const now = Date.now();
      if (done < total && now - last < LOG_EVERY_MS) return;
      last = now;
      stream.write(`${label}: ${done}/${total} (${total ? Math.floor((100 * done) / total) : 100}%)\n`);
    },
    stop() {},
  };
}
