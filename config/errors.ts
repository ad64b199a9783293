// The error a service start raises for a configuration it cannot run with: it names the key,
// its flag and environment variable, where the bad value came from, and what is wrong.
import { ZtmintError } from '../errors/ztmint-error.js';

export class ConfigError extends ZtmintError<'invalid_config'> {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('invalid_config', message, options);
  }
}
