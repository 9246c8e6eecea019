/** Base class of every error primacy throws or reports. `code` is stable; messages are not. */
export class PrimacyError extends Error {
  override name = 'PrimacyError';
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** An option or argument is invalid. Thrown at construction, never later. */
export class PrimacyConfigError extends PrimacyError {
  override name = 'PrimacyConfigError';
  readonly option: string;
  readonly value: unknown;
  /** `message` replaces "Expected `option` to be …, got …" where that does not fit (an unknown option). */
  constructor(option: string, value: unknown, expected: string, scope = 'options', message?: string) {
    super(
      'ERR_PRIMACY_CONFIG',
      `[primacy] [${scope}] ${message ?? `Expected \`${option}\` to be ${expected}, got ${describeValue(value)}`}`,
    );
    this.option = option;
    this.value = value;
  }
}

/** The lock backend failed (I/O, network). Transient: the elector retries and reports it. */
export class PrimacyBackendError extends PrimacyError {
  override name = 'PrimacyBackendError';
  readonly adapter: string;
  readonly operation: string;
  constructor(adapter: string, operation: string, message: string, options?: { cause?: unknown }) {
    super('ERR_PRIMACY_BACKEND', `[primacy] [${adapter}] ${operation} failed: ${message}`, options);
    this.adapter = adapter;
    this.operation = operation;
  }
}

/** A command-line argument is invalid (the CLIs exit 64). */
export class PrimacyUsageError extends PrimacyError {
  override name = 'PrimacyUsageError';
  constructor(message: string) {
    super('ERR_PRIMACY_USAGE', message);
  }
}

export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `${JSON.stringify(value)} (string)`;
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${String(value)} (${typeof value})`;
  }
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
}
