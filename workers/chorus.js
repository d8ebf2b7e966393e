#!/usr/bin/env node
// The `chorus` bin: the project is TypeScript run through tsx, so this registers tsx's loader
// and starts workers/cli.ts. Works from any directory once `npm install` (or `npm link`) ran.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
