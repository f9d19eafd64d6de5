// A child process for db.test.ts: opens the embedded data directory given as its argument, runs
// one query through Database.query only (never through Kysely), closes it, and should then exit.
import { openEmbedded } from '../../src/db/connection.js';

const database = await openEmbedded(process.argv[2]!, 'test');
const { rows } = await database.query<{ one: number }>('SELECT 1 AS one');
await database.close();
process.stdout.write(`${rows[0]?.one}\n`);
