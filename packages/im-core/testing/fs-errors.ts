/** An error as node:fs reports it (`EROFS: mkdir '/path'`), for tests that inject file-system failures. */
export function fsError(code: string, syscall: string, path?: string): NodeJS.ErrnoException {
  const where = path === undefined ? "" : ` '${path}'`;
  return Object.assign(new Error(`${code}: ${syscall}${where}`), {
    code,
    syscall,
    ...(path === undefined ? {} : { path }),
  });
}
