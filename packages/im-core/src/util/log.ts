/**
 * The logging port im-core writes to. Powertools' Logger satisfies it in Lambda; the CLI and tests
 * pass their own. Fields are structured; never put a secret key or a UserSig in them.
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
