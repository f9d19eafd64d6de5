// The product's version, from package.json (one place to bump): `seedtest --version`, the OpenAPI
// document, the default image tag. The same relative path works from src/ and from dist/.
import { readFileSync } from 'node:fs';

export const VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;
