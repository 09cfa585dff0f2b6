// Quoting for the commands the site agent runs on a host over SSH. An SSH "exec" request is one string
// that the host's login shell parses, so every operand is quoted here, once, the POSIX way: inside single
// quotes nothing is special but the single quote itself, which is closed, escaped and reopened ('\'').
// (Six lines of a rule that cannot go wrong are kept here rather than taking a dependency for them.)

/** A /bin/sh command line whose every operand has been quoted by shellQuote. */
export type ShellCommand = string;

/** One operand, quoted so the shell passes it on as exactly these bytes. Refuses NUL, which no argv can hold. */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new TypeError('a shell operand cannot contain a NUL byte');
  // Words of only these characters mean the same quoted or not; leaving them bare keeps logs readable.
  // ("=" is not among them: a bare first word "a=b" would be an assignment, not a command.)
  if (/^[A-Za-z0-9_@%+:,./-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** argv as one command line: each word quoted, joined by spaces. */
export function shellJoin(argv: readonly string[]): ShellCommand {
  if (argv.length === 0) throw new TypeError('an empty command');
  return argv.map(shellQuote).join(' ');
}
