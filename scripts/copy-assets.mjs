// Copies the non-TypeScript files the built program reads (SQL migrations, the dashboard's page
// shell and stylesheet) into dist/.
import { cpSync } from 'node:fs';

cpSync('src/db/migrations', 'dist/db/migrations', { recursive: true });
cpSync('src/dashboard/static', 'dist/dashboard/static', { recursive: true });
