/** GIT_PROTOCOL values let through to git: only git's own key=value form with a version. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gitEnvironment, isGitProtocolValue } from '../../../src/sftpd/sshcmd-git';

test('GIT_PROTOCOL: version=N (with other key=value parameters) accepted, anything else dropped', () => {
  for (const ok of ['version=2', 'version=1', 'version=2:object-format=sha256', 'agent=git-2.39:version=2']) assert.ok(isGitProtocolValue(ok), ok);
  for (const bad of ['', 'version=', 'version=2;rm -rf /', 'version=2\nX=1', 'VERSION=2', 'version=two', 'x=1', 'version=2:', `version=2:${'a=b:'.repeat(80)}a=b`, 'version=2 ']) {
    assert.equal(isGitProtocolValue(bad), false, JSON.stringify(bad));
  }
  assert.equal(gitEnvironment('/h', 'version=2').GIT_PROTOCOL, 'version=2');
  assert.equal(gitEnvironment('/h', 'version=2$(id)').GIT_PROTOCOL, undefined);
  assert.equal(gitEnvironment('/h').GIT_PROTOCOL, undefined);
});
