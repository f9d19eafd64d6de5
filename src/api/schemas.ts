// The HTTP vocabulary every route group shares: ids, dates and instants as inputs and outputs, model
// names, the bearer security requirement, and the null check of JSON bodies. Route files import it
// from here (and nothing from each other).
import { Type } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

/** The OpenAPI security requirement of routes that take a user's JWT. */
export const BEARER = [{ bearerAuth: [] }];

/** A text id: 1..128 characters, no control characters. */
export const Id = (description: string) =>
  Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\x00-\\x1F\\x7F]+$', description });

/** A day as input; checked by the time rule in the handler (src/ingestion/time.ts), which names the reason. */
export const DayInput = (description?: string) =>
  Type.String({
    maxLength: 10,
    description: description
      ? `${description}; YYYY-MM-DD from EARLIEST_INPUT_DATE on`
      : 'YYYY-MM-DD from EARLIEST_INPUT_DATE on',
  });

/** An instant as input; checked by the time rule in the handler (src/ingestion/time.ts). */
export const InstantInput = (description: string) =>
  Type.String({
    maxLength: 64,
    description: `${description}; ISO 8601 with a zone, from EARLIEST_INPUT_DATE to now + 1 day`,
  });

/** An instant in an answer (ISO 8601, UTC). */
export const Instant = Type.String({ format: 'date-time' });

export const ModelName = Type.Union([
  Type.Literal('Rasch'),
  Type.Literal('1PL'),
  Type.Literal('2PL'),
  Type.Literal('3PL'),
]);

type Path = readonly (string | number)[];

const pathName = (path: Path) =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');

/** A node of the body being walked; the path is rebuilt from the parents only when needed. */
interface Node {
  value: unknown;
  key: string | number;
  parent: Node | undefined;
}

function pathOf(node: Node): (string | number)[] {
  const path: (string | number)[] = [];
  for (let n: Node | undefined = node; n?.parent; n = n.parent) path.push(n.key);
  return path.reverse();
}

/**
 * A preValidation hook: 400 naming the first null in the body outside `allowed` paths. The server's
 * validator coerces types (for query strings), which would turn a null into 0 or false.
 */
export function rejectNulls(allowed: (path: Path) => boolean = () => false) {
  return async (request: FastifyRequest): Promise<void> => {
    // Iterative and linear in the size of the body, however deeply it nests.
    const stack: Node[] = [{ value: request.body, key: '', parent: undefined }];
    while (stack.length > 0) {
      const node = stack.pop()!;
      const { value } = node;
      if (value === null) {
        const path = pathOf(node);
        if (path.length === 0 || allowed(path)) continue;
        const field = pathName(path);
        throw new ApiError('INVALID_INPUT', `${field} must not be null`, {
          fields: [{ field, in: 'body', message: 'must not be null' }],
        });
      }
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) stack.push({ value: value[i], key: i, parent: node });
      } else if (typeof value === 'object') {
        for (const [k, v] of Object.entries(value as object)) stack.push({ value: v, key: k, parent: node });
      }
    }
  };
}
