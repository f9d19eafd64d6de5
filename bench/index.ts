// `npm run bench -- <name> [args]`: runs bench/<name>.ts, which exports bench<Name>(args).
const [name, ...rest] = process.argv.slice(2);
if (!name) {
  console.error('usage: npm run bench -- <name> [args]');
  process.exit(2);
}
const mod = (await import(`./${name}.ts`)) as Record<string, (args: string[]) => Promise<void>>;
const fn = mod[`bench${name.charAt(0).toUpperCase()}${name.slice(1)}`];
if (!fn) {
  console.error(`bench/${name}.ts exports no bench function`);
  process.exit(2);
}
await fn(rest);
