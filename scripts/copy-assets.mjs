// Copies the non-TypeScript files the built program reads (SQL migrations) into dist/.
import { cpSync } from 'node:fs';

cpSync('src/db/migrations', 'dist/db/migrations', { recursive: true });
