// The largest values an attempt's columns take (integer milliseconds within a day, smallint hints):
// the API's schema and the import parser refuse larger ones with the field's name.
export const MAX_RESPONSE_TIME_MS = 86_400_000;
export const MAX_HINTS = 32_767;
