/** The web admin's own body parsing and form helpers: malformed input is an error, never a crash. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundaryOf, MultipartError, parseMultipart } from '../../../src/httpd/web/multipart';
import { Form } from '../../../src/httpd/web/form';
import { isValidationError } from '../../../src/dataprovider/validation';
import { helpers } from '../../../src/httpd/web/view';

function body(parts: string[], b = 'XyZ'): Buffer {
  return Buffer.from(parts.map((p) => `--${b}\r\n${p}\r\n`).join('') + `--${b}--\r\n`);
}

test('multipart: fields and files', () => {
  const parsed = parseMultipart(body([
    'Content-Disposition: form-data; name="_form_token"\r\n\r\ntok',
    'Content-Disposition: form-data; name="backup_file"; filename="b.json"\r\nContent-Type: application/json\r\n\r\n{"a":\r\n1}',
  ]), 'XyZ');
  assert.equal(parsed._form_token, 'tok');
  assert.equal(parsed.backup_file, '{"a":\r\n1}');
  assert.equal(parsed.backup_file__filename, 'b.json');
  assert.equal(boundaryOf('multipart/form-data; boundary=----abc'), '----abc');
  assert.equal(boundaryOf('multipart/form-data; boundary="q u"'), 'q u');
});

test('multipart: malformed bodies are MultipartErrors', () => {
  assert.throws(() => boundaryOf('multipart/form-data'), MultipartError);
  assert.throws(() => parseMultipart(Buffer.from('garbage'), 'XyZ'), MultipartError);
  assert.throws(() => parseMultipart(Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nno end'), 'XyZ'), MultipartError);
  const many = body(Array.from({ length: 2001 }, (_, i) => `Content-Disposition: form-data; name="f${i}"\r\n\r\nv`));
  assert.throws(() => parseMultipart(many, 'XyZ'), MultipartError);
  const proto = parseMultipart(body(['Content-Disposition: form-data; name="__proto__"\r\n\r\nx']), 'XyZ');
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
});

test('multipart: a name sent twice (checkboxes) becomes a list; inherited names are not merged', () => {
  const parsed = parseMultipart(body([
    'Content-Disposition: form-data; name="perm_0_perm"\r\n\r\nlist',
    'Content-Disposition: form-data; name="perm_0_perm"\r\n\r\ndownload',
    'Content-Disposition: form-data; name="perm_0_perm"\r\n\r\nupload',
    'Content-Disposition: form-data; name="constructor"\r\n\r\nc',
  ]), 'XyZ');
  assert.deepEqual(parsed.perm_0_perm, ['list', 'download', 'upload']);
  assert.equal(parsed.constructor, 'c');
});

test('form: sizes, numbers, dates and rows', () => {
  const f = Form.of({ a: '50MB', b: '1.5 gb', c: '12', d: 'x', e: '2030-01-02', p_3_path: '/x', p_1_path: '/', list: ['a', ' ', 'b'], n: '-1' });
  assert.equal(f.size('a', 'A'), 50 * 1024 * 1024);
  assert.equal(f.size('b', 'B'), 1.5 * 1024 ** 3);
  assert.equal(f.int('c', 'C'), 12);
  assert.equal(f.int('missing', 'M'), 0);
  assert.equal(f.date('e', 'E'), Date.UTC(2030, 0, 2));
  assert.deepEqual(f.rows('p', 'path'), [1, 3]);
  assert.deepEqual(f.all('list'), ['a', 'b']);
  for (const bad of [() => f.int('d', 'D'), () => f.size('d', 'D'), () => f.date('d', 'D'), () => f.int('n', 'N')]) {
    assert.throws(bad, (e: unknown) => isValidationError(e));
  }
  const rows: Record<string, string> = {};
  for (let i = 0; i < 300; i++) rows[`p_${i}_path`] = '/';
  assert.throws(() => Form.of(rows).rows('p', 'path'), (e: unknown) => isValidationError(e));
  assert.deepEqual(Form.of('not an object').body, {});
});

test('helpers: size inputs round-trip through the form parser', () => {
  for (const n of [0, 1, 1000, 1024, 50 * 1024 * 1024, 3 * 1024 ** 4, 1536]) {
    const text = helpers.sizeInput(n);
    assert.equal(Form.of({ s: text }).size('s', 'S'), n, `${n} → ${text}`);
  }
});
