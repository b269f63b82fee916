#!/usr/bin/env node
// Entry point for `npx tributary`: runs the TypeScript CLI through tsx, so no build step is needed.
import { register } from 'tsx/esm/api';

// The SDK warns on Node < 22 about releases from 2027 on; we pin SDK versions and support Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
