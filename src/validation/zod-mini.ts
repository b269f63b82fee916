/**
 * `zod/mini` with the English error messages classic `zod` loads by default, for the schemas that
 * Lambda handlers import. Classic `zod` cannot be tree-shaken (about 440 KiB in every bundle); the
 * mini API with only the checks used is about 25 KiB. The messages are the same as classic `zod`'s,
 * so an error reads the same in a handler and in the CLI.
 *
 * Import it as a namespace (`import * as z`), which esbuild tree-shakes.
 *
 * @example
 * import * as z from '../validation/zod-mini.js';
 * const schema = z.object({ name: z.string().check(z.minLength(1)) });
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
