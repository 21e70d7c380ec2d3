// Writing a command line into the files file managers read, so that each argument arrives as it is: names with
// spaces, quotes, `$`, backslashes, newlines and non-ASCII letters included.

/** One argument for a POSIX shell (sh -c, scripts): in single quotes, a single quote as '\''. */
export function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Characters that the Desktop Entry Specification reserves in an Exec argument: such an argument is quoted. */
const EXEC_RESERVED = /[\s"'\\><~|&;$*?#`()]/;

/**
 * One argument of a Desktop Entry Exec line (spec 1.5, "The Exec key"): quoted in double quotes when it holds a
 * reserved character, `"`, `` ` ``, `$` and `\` then escaped with a backslash; `%` doubled (a literal percent sign).
 */
export function execArg(arg: string): string {
  const quoted = arg === '' || EXEC_RESERVED.test(arg) ? `"${arg.replace(/["`$\\]/g, (c) => `\\${c}`)}"` : arg;
  return quoted.replace(/%/g, '%%');
}

/**
 * A value of type string in a desktop entry file (spec, "Possible value types"): `\` as `\\`, and newline, tab and
 * carriage return escaped; a leading space as `\s`. Applied after the Exec quoting, which readers undo after it.
 */
export function keyFileString(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/\t/g, '\\t')
    .replace(/\r/g, '\\r')
    .replace(/^ /, '\\s');
}

/** The Exec value of a desktop entry that runs `command` with the selected files (%F: one argument each). */
export function desktopExec(command: readonly string[]): string {
  return keyFileString([...command.map(execArg), '%F'].join(' '));
}

/**
 * A command line for file managers that expand %F themselves and then split the line like a shell (Nemo, Thunar):
 * each argument shell-quoted, `%` doubled (their literal percent sign), then %F.
 */
export function shellCommandWithFiles(command: readonly string[]): string {
  return [...command.map((a) => shellQuote(a).replace(/%/g, '%%')), '%F'].join(' ');
}

/** Text and attribute values in XML. */
export function xmlEscape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A command for a person to read (status, comments): shell-quoted where needed, on one line. */
export function displayCommand(command: readonly string[]): string {
  return command
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : shellQuote(a)))
    .join(' ')
    .replace(/\p{Cc}/gu, '?');
}
