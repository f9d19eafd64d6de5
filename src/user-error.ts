// The base of the errors a user can act on (a setting, an input file, the database's state, a job
// already running): `seedtest` prints their message as one line, without a stack trace. A module of
// its own, importing nothing, so the CLI recognises them without loading the modules that throw them.
export class UserError extends Error {}

// A domain error for input that breaks a contract (a bad model name, an out-of-range option, a
// malformed response): the CLI prints it as one line, the API answers 400/422. Anything else that
// escapes is a bug and a 500.
export class InvalidInputError extends UserError {}

// A numerical method that cannot go on with the data it was given (an objective that is not finite
// where it starts, a singular system): the data need a look, the program is not at fault.
export class NumericalFailure extends UserError {}
