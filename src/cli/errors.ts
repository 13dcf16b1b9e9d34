import { MedvaeError } from '../index.js';

/** A command line the `medvae` command cannot run: unknown command or option, missing argument. Exit code 2. */
export class UsageError extends MedvaeError {
  static override readonly errorName: string = 'UsageError';
}
