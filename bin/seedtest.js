#!/usr/bin/env node
// Entry point of the `seedtest` command: the compiled program in dist/, built by `npm ci` (the
// `prepare` script), `npm run build` and the Dockerfile. SEEDTEST_DEV=1 is the development mode: it
// runs the TypeScript sources through tsx instead (seconds slower to start, no build after an edit).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'cli', 'main.js');
if (process.env.SEEDTEST_DEV === '1') {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href);
} else if (existsSync(built)) {
  await import(pathToFileURL(built).href);
} else {
  console.error(
    `seedtest: ${built} is missing: run \`npm run build\` (or set SEEDTEST_DEV=1 to run the TypeScript sources)`,
  );
  process.exitCode = 1;
}
