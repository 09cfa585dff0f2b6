// A command line for a host's shell, every operand quoted by shJoin (ssh/shell-quote.ts): what the
// generators hand the SSH executor to run.
export type ShellCommand = string;
