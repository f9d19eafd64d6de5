#!/usr/bin/env node
// Lint step: the repository stands alone. No tracked file outside docs/ may point at the folder that
// sits beside our CI checkout only (a user's clone has nothing beside it).
import { execFileSync } from 'node:child_process';

const outside = ['..', 'shared'].join('/');
let hits = '';
try {
  hits = execFileSync('git', ['grep', '-n', '-I', '-F', outside, '--', '.', ':!docs'], { encoding: 'utf8' });
} catch (err) {
  // git grep exits 1 when nothing matches: the good case.
  if (err.status !== 1) throw err;
}
if (hits.trim()) {
  console.error(
    `These tracked files point outside the repository (${outside}); copy what they need into it:`,
  );
  console.error(hits.trimEnd());
  process.exit(1);
}
