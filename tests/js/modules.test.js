// Every ES module of the app links: each static import names a file that exists and the
// exports it asks for (tests/js/module-graph.js; linking only, nothing runs). A module
// that imports a name another module no longer exports fails here, not on a phone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./module-graph.js', import.meta.url));

test('every module of web/ and the service worker links', () => {
  const output = execFileSync(process.execPath, ['--experimental-vm-modules', '--no-warnings', SCRIPT],
    { encoding: 'utf8' });
  const { modules, errors } = JSON.parse(output);
  assert.deepEqual(errors, []);
  assert.ok(Object.keys(modules).length > 20);
  assert.ok(modules['service-worker.js'].includes('web/outbox.js'));
});
