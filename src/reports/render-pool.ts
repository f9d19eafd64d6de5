// Rendering is synchronous CPU work (Plot, pdfmake), so one process renders on one core. A batch uses
// every core through a pool of child processes, each rendering the view-models it is sent and
// answering with the bytes; with one process the pool renders in this process. The children run
// this same module (a flag tells them apart), under tsx in development and as plain JS when built.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type RenderedReport, renderReports } from './render.js';
import type { ReportFormat } from './storage.js';
import type { Edition, ReportViewModel } from './view-model.js';

const CHILD_FLAG = '--seedtest-render-child';

interface Task {
  id: number;
  vm: ReportViewModel;
  editions: readonly Edition[];
  formats: readonly ReportFormat[];
}
type Answer = { id: number; output: RenderedReport[] } | { id: number; error: string };

export interface RenderPool {
  render(
    vm: ReportViewModel,
    editions: readonly Edition[],
    formats: readonly ReportFormat[],
  ): Promise<RenderedReport[]>;
  /** The child processes' ids (none when rendering in this process), for resource accounting. */
  readonly pids: readonly number[];
  close(): void;
}

if (process.argv[2] === CHILD_FLAG) {
  process.on('message', async ({ id, vm, editions, formats }: Task) => {
    try {
      const output = await renderReports(vm, editions, formats);
      process.send!({ id, output } satisfies Answer);
    } catch (err) {
      process.send!({ id, error: (err as Error).message } satisfies Answer);
    }
  });
  // The parent going away ends the child.
  process.on('disconnect', () => process.exit(0));
}

interface Child {
  process: ChildProcess;
  pending: Map<number, { resolve: (r: RenderedReport[]) => void; reject: (e: Error) => void }>;
}

/** A pool of `processes` renderers (1: render in this process). */
export function createRenderPool(processes: number): RenderPool {
  if (processes <= 1) return { render: renderReports, pids: [], close: () => {} };
  const self = fileURLToPath(import.meta.url);
  // Under tsx (development, tests) the children need the same loader; built JS runs as is. Rendering
  // allocates many short-lived objects: a 32 MB young generation cut its CPU by ~20 % (measured).
  // tsx by absolute URL: a bare `--import tsx` resolves from the current directory.
  const execArgv = [
    ...(self.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : []),
    '--max-semi-space-size=32',
  ];
  let nextId = 0;
  const children: Child[] = Array.from({ length: processes }, () => {
    const child: Child = {
      // 'advanced' serialisation carries Buffers as bytes, not as JSON arrays.
      process: fork(self, [CHILD_FLAG], { execArgv, serialization: 'advanced', stdio: 'inherit' }),
      pending: new Map(),
    };
    child.process.on('message', (answer: Answer) => {
      const waiting = child.pending.get(answer.id);
      child.pending.delete(answer.id);
      if ('error' in answer) waiting?.reject(new Error(answer.error));
      else waiting?.resolve(answer.output.map((r) => ({ ...r, bytes: Buffer.from(r.bytes) })));
    });
    child.process.on('exit', (code) => {
      for (const { reject } of child.pending.values()) reject(new Error(`render process exited (${code})`));
      child.pending.clear();
    });
    return child;
  });
  return {
    pids: children.map((c) => c.process.pid!),
    render(vm, editions, formats) {
      // The least busy child takes the report.
      const child = children.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        if (child.process.exitCode !== null || !child.process.connected) {
          reject(new Error('render process is not running'));
          return;
        }
        child.pending.set(id, { resolve, reject });
        child.process.send({ id, vm, editions, formats } satisfies Task);
      });
    },
    close() {
      for (const child of children) child.process.disconnect();
    },
  };
}
