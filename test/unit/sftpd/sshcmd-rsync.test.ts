import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRsyncArgs } from '../../../src/sftpd/sshcmd-rsync';

describe('rsync --server argument allow-list', () => {
  test('push and pull forms are accepted; link-making options are forced', () => {
    const push = parseRsyncArgs(['--server', '-logDtpre.iLsfxCIvu', '--delete', '--partial', '.', '/dst/']);
    assert.equal(push.path, '/dst/');
    assert.equal(push.sender, false);
    assert.deepEqual(push.options, ['--server', '-logDtpre.iLsfxCIvu', '--delete', '--partial', '--munge-links', '--no-super', '--chmod=ugo-s', '.']);
    const pull = parseRsyncArgs(['--server', '--sender', '-e.LsfxCIvu', '--log-format=X', '--bwlimit=2000', '.', 'src']);
    assert.equal(pull.sender, true);
    assert.equal(pull.path, 'src');
  });

  test('anything that follows links, names a program/file or adds paths is refused', () => {
    const refused: string[][] = [
      ['--server', '-Llogdtpre.iLsfxCIvu', '.', 'x'],
      ['--server', '-lkogDtpre.iLsfxCIvu', '.', 'x'],
      ['--server', '-lKogDtpre.iLsfxCIvu', '.', 'x'],
      ['--server', '-logDtpre.iLsfxCIvu', '--copy-unsafe-links', '.', 'x'],
      ['--server', '-logDtpre.iLsfxCIvu', '--copy-links', '.', 'x'],
      ['--server', '-logDtpre.iLsfxCIvu', '--rsync-path=/bin/sh', '.', 'x'],
      ['--server', '-logDtpre.iLsfxCIvu', '--partial-dir=/tmp', '.', 'x'],
      ['--server', '-logDtpre.iLsfxCIvu', '--log-file=/tmp/x', '.', 'x'],
      ['--server', '-logDtpre.iLsfxCIvu', '--temp-dir=/tmp', '.', 'x'],
      ['--server', '-logDtpre.iLsfxCIvu', '--files-from=/etc/passwd', '.', 'x'],
      ['--server', '-logDtpre.iLsfxCIvu', '--bwlimit=1;id', '.', 'x'],
      ['--server', '--sender', '-logDtpre.iLsfxCIvu', '.', 'a', 'b'],
      ['--server', '--sender', '-logDtpre.iLsfxCIvu', '.', '/o*/'],
      ['--server', '--sender', '-logDtpre.iLsfxCIvu', '.', '/[o]ut/'],
      ['--server', '--sender', '-slogDtpre.iLsfxCIvu', '.', 'x'],
      ['--server', '-logDtpre.iLsfxCIvu', '.'],
      ['--server', '-logDtpre.iLsfxCIvu', 'x'],
      ['--daemon', '.', 'x'],
      ['-logDtpre.iLsfxCIvu', '.', 'x'],
      ['--server', '-logDtpr', '.', 'x'],
      ['--server', '-logDtpre.', '.', 'x'],
      ['--server', '-logDtpre.i/s', '.', 'x'],
      [],
    ];
    for (const args of refused) assert.throws(() => parseRsyncArgs(args), /invalid or unsupported rsync command/, args.join(' '));
  });
});
