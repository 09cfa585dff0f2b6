// One argument for a POSIX shell, whatever it holds: commands sent over SSH are a single string that the
// remote user's shell splits, so every path and value in one goes through here.

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function shQuote(arg: string): string {
  if (arg !== '' && SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** argv as one shell command line. */
export function shJoin(argv: readonly string[]): string {
  return argv.map(shQuote).join(' ');
}
