/** Perimeter settings the server cannot honour stop start-up with the setting named (fail closed). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPerimeterApp } from './env';

const cases: [string, Parameters<typeof startPerimeterApp>[0], RegExp][] = [
  ['defender score', (c) => { c.common.defender.enabled = true; c.common.defender.score_valid = 15; }, /common\.defender\.score_valid 15 cannot be greater than threshold 15/],
  ['defender driver', (c) => { c.common.defender.enabled = true; c.common.defender.driver = 'redis'; }, /common\.defender\.driver/],
  ['rate limiter burst', (c) => { c.common.rate_limiters = [{ ...c.common.rate_limiters[0]!, average: 10, burst: 0 }]; }, /common\.rate_limiters\[0\]\.burst/],
  ['rate limiter protocol', (c) => { c.common.rate_limiters = [{ ...c.common.rate_limiters[0]!, average: 10, protocols: ['SMB'] }]; }, /invalid protocol "SMB"/],
  ['allow list status', (c) => { c.common.allowlist_status = 2; }, /common\.allowlist_status/],
  ['proxy_protocol', (c) => { c.common.proxy_protocol = 3; }, /common\.proxy_protocol/],
  ['proxy_allowed entry', (c) => { c.common.proxy_protocol = 1; c.common.proxy_allowed = ['10.0.0.0/40']; }, /common\.proxy_allowed: invalid IP address or network "10\.0\.0\.0\/40"/],
  ['proxy_mode without proxy_protocol', (c) => { c.httpd.bindings[0]!.proxy_mode = 1; }, /proxy_mode 1 needs common\.proxy_protocol/],
  ['webdav proxy_allowed entry', (c) => { c.webdavd.bindings[0]!.proxy_allowed = ['nope']; }, /proxy_allowed: invalid IP address or network "nope"/],
];

for (const [name, tune, re] of cases) {
  test(`start-up refused: ${name}`, async () => {
    await assert.rejects(async () => {
      const env = await startPerimeterApp(tune);
      await env.close();
    }, re);
  });
}
