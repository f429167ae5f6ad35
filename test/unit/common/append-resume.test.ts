/**
 * A resumed upload opened with the APPEND flag (OpenSSH `reput`) honours each
 * write's offset: pipelined SFTP writes can complete out of order, and with
 * O_APPEND they would be stored in completion order.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { tempDir, makeUser } from './support';
import { connect, rejectsKind } from './helpers';

const t = tempDir();
after(() => t.cleanup());

for (const mode of [0, 1, 2]) {
  test(`upload_mode ${mode}: append-resume writes land at their offsets, whatever their order`, async () => {
    const home = path.join(t.dir, `home${mode}`);
    mkdirSync(home);
    writeFileSync(path.join(home, 'r.bin'), 'AAAA');
    const h = await connect(makeUser(home), { upload_mode: mode });
    const up = await h.conn.openWrite('/r.bin', { truncate: false, append: true, exclusive: false, read: false, offset: 0 });
    // the later block first, as when the second WRITE's disk write finishes first
    await up.writeAt(Buffer.from('CCCC'), 8);
    await up.writeAt(Buffer.from('BBBB'), 4);
    await rejectsKind(up.writeAt(Buffer.from('xx'), 0), 'Generic');
    await up.close();
    assert.equal(readFileSync(path.join(home, 'r.bin'), 'utf8'), 'AAAABBBBCCCC');
    await h.mgr.shutdown(0);
  });
}
