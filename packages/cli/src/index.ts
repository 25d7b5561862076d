export { COMMANDS, UsageError, type Command, type CommandContext } from './commands.js';
