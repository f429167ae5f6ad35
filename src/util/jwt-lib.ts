/**
 * jose (JWT signing and verification) for API tokens, web sessions and
 * cluster tokens, loaded on the first token rather than at start-up: CLI
 * commands and a daemon that serves no HTTP never need it.
 */
import { lazy } from './lazy';

export const jwtLib = lazy(() => require('jose') as typeof import('jose'));
