#!/usr/bin/env node
// Entry point of the `seedtest` command: the compiled program in dist/, built by `npm ci` (the
// `prepare` script), `npm run build` and the Dockerfile. SEEDTEST_DEV=1 is the development mode: it
// runs the TypeScript sources through tsx instead (seconds slower to start, no build after an edit).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// The long-running commands re-execute themselves once (same PID, process.execve) with two memory
// settings an idle server needs and a CLI run does not (docs/decisions.md → "Idle memory"):
// glibc's trim threshold fixed at 128 KB, so the tens of MB the database's WebAssembly compiler
// frees after start-up go back to the system (glibc otherwise raises the threshold after large
// frees and keeps them), and a 4 MB young generation instead of 16 MB (a server's objects are small
// and short-lived). A user's own GLIBC_TUNABLES or --max-semi-space-size is kept.
const LONG_RUNNING = ['serve', 'worker'];
if (
  LONG_RUNNING.includes(process.argv[2] ?? '') &&
  process.env.SEEDTEST_MEMORY_TUNED === undefined &&
  typeof process.execve === 'function' &&
  process.platform !== 'win32'
) {
  const own = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((f) =>
    f.includes('--max-semi-space-size'),
  );
  process.execve(
    process.execPath,
    [
      process.execPath,
      ...(own ? [] : ['--max-semi-space-size=4']),
      ...process.execArgv,
      ...process.argv.slice(1),
    ],
    {
      ...process.env,
      SEEDTEST_MEMORY_TUNED: '1',
      GLIBC_TUNABLES: process.env.GLIBC_TUNABLES ?? 'glibc.malloc.trim_threshold=131072',
    },
  );
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'cli', 'main.js');
if (process.env.SEEDTEST_DEV === '1') {
  // tsx is a development dependency: an install without them (the image, npm ci --omit=dev) says so.
  const tsx = await import('tsx/esm/api').catch(() => undefined);
  if (tsx) {
    tsx.register();
    await import(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href);
  } else {
    console.error(
      'seedtest: SEEDTEST_DEV=1 runs the TypeScript sources and needs the development dependencies (npm ci)',
    );
    process.exitCode = 1;
  }
} else if (existsSync(built)) {
  await import(pathToFileURL(built).href);
} else {
  console.error(
    `seedtest: ${built} is missing: run \`npm run build\` (or set SEEDTEST_DEV=1 to run the TypeScript sources)`,
  );
  process.exitCode = 1;
}
