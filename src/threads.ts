// Starting a worker thread from a module file beside the caller: the built `.js`, or, when the
// caller itself runs from TypeScript sources (tsx: the tests, SEEDTEST_DEV), the `.ts` after
// registering tsx's loader, which workers do not inherit. Both by absolute URL: eval'd code resolves
// bare specifiers from the current directory, not from here.
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startModuleWorker(callerUrl: string, name: string, options: WorkerOptions = {}): Worker {
  const fromSource = callerUrl.endsWith('.ts');
  const url = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, callerUrl);
  if (!fromSource) return new Worker(url, options);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const bootstrap = `import(${tsx}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
