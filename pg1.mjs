import { PGlite } from '@electric-sql/pglite';
const t=Date.now();
const db = await PGlite.create();
console.log('create ms', Date.now()-t);
const r = await db.query("select 1::int8 as a, 2.5::numeric as b, now() as c, '2024-01-01'::date as d, '{a,b}'::text[] as e, '{\"x\":1}'::jsonb as f");
console.log(r.rows, r.fields);
const t2=Date.now(); const dump = await db.dumpDataDir('none'); console.log('dump', dump.size, Date.now()-t2);
const t3=Date.now(); const db2 = await PGlite.create({loadDataDir: dump}); await db2.query('select 1'); console.log('load ms', Date.now()-t3);
