import { describeOwner } from '../local/process-owner.js';
import type { LeaseHolder } from './types.js';

/**
 * Raised when another live consumer (e.g. a running `tributary up`) holds a pipe for too long; names the holder.
 *
 * @example
 * throw new PipeBusyError('visits-pipe', store.leaseHolder('visits-pipe'));
 */
export class PipeBusyError extends Error {
  public override readonly name = 'PipeBusyError';
  public constructor(
    public readonly pipe: string,
    public readonly holder?: LeaseHolder,
  ) {
    super(
      holder
        ? `pipe ${pipe} is being read by ${describeOwner(holder.owner)}, lease until ${new Date(holder.until).toISOString()} (is \`tributary up\` running on this state directory?)`
        : `pipe ${pipe} is being read by another consumer (is \`tributary up\` running on this state directory?)`,
    );
  }
}
