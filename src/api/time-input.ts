// The time rule of src/ingestion/time.ts at the HTTP door: a value that breaks it is a 400
// INVALID_INPUT naming the field.
import type { Config } from '../config.js';
import {
  parseDate,
  parseDateOrInstant,
  parseInstant,
  type TimeBounds,
  TimeInputError,
} from '../ingestion/time.js';
import { ApiError } from './errors.js';

export type Part = 'body' | 'querystring';

export const inputBounds = (config: Config): TimeBounds => ({
  earliest: config.earliestInputDate,
  now: new Date(),
});

/** 400 INVALID_INPUT naming `field` in the documented shape. */
export function invalidField(field: string, part: Part, message: string): ApiError {
  return new ApiError('INVALID_INPUT', `${field} ${message}`, {
    fields: [{ field, in: part, message }],
  });
}

function checked<T>(parse: (v: string, b: TimeBounds) => T) {
  return (value: string, field: string, part: Part, config: Config): T => {
    try {
      return parse(value, inputBounds(config));
    } catch (err) {
      if (err instanceof TimeInputError) throw invalidField(field, part, err.message);
      throw err;
    }
  };
}

export const instantInput = checked(parseInstant);
export const dateInput = checked(parseDate);
export const dateOrInstantInput = checked(parseDateOrInstant);
