// A stand-alone `seedtest`-like program with only the irt commands, for the CLI tests.
import { Command } from 'commander';
import { registerIrtCommands } from '../../../src/cli/irt.js';

const program = new Command('seedtest');
registerIrtCommands(program);
program.parse(process.argv);
