/** A refused configuration: one line naming the key (or file) and the offending value. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
