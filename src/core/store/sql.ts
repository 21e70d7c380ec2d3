// SQL fragments the store's statements share (a path inside a folder).
import nodePath from 'node:path';

/**
 * SQL that is true when the path `inner` lies below the folder path `outer` (the separator is this platform's;
 * a root such as '/' keeps its one separator). Both are SQL expressions.
 */
export function sqlInside(inner: string, outer: string): string {
  const sep = `'${nodePath.sep}'`;
  return `substr(${inner}, 1, length(rtrim(${outer}, ${sep})) + 1) = rtrim(${outer}, ${sep}) || ${sep}`;
}
