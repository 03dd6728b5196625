// The small version of verify:lifecycle, in the normal suite, on a fixture:
// disconnects, shutdown/exit ordering, cancellation of every request kind, a
// burst of didChange, many open documents, and memory over thousands of edits.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FIXTURE_ROOT } from '../fixture-files';
import { burst, cancellation, disconnects, leak, manyOpen, ordering, type Check } from './lifecycle';

const text = fs.readFileSync(path.join(FIXTURE_ROOT, 'gfp', 'redundant-nofs.c'), 'utf8');
const failed = (checks: readonly Check[]): string[] => checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);

test('lifecycle: the client goes away (stdin closed, editor killed): the server exits', async () => {
  assert.deepEqual(failed(await disconnects()), []);
});

test('lifecycle: exit without shutdown is 1, shutdown then exit is 0, requests after shutdown fail', async () => {
  assert.deepEqual(failed(await ordering(text)), []);
});

test('lifecycle: hover, inlay hints, code actions and pull diagnostics can each be cancelled', async () => {
  assert.deepEqual(failed(await cancellation(text)), []);
});

test('lifecycle: a burst of 1,000 didChange, then 100 open documents; the server stays responsive', async () => {
  assert.deepEqual(failed([...(await burst(text, 1000, 2000)), ...(await manyOpen([text], 100, 2000))]), []);
});

test('lifecycle: resident memory does not grow with the number of edits', async () => {
  // From 1,000 edits on (V8's heap has grown to its working size by then; see MAX_GROWTH).
  const r = await leak(text, 1000, 3000, 50);
  assert.ok(r.ok, r.detail);
});
