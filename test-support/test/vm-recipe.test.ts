import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tempDir } from '../src/toolchain';
import { cachedKeys } from '../src/vm/keys';
import { describeRecipe, GUEST_PACKAGES, makeRecipe, recipeKey } from '../src/vm/recipe';

const KERNEL = { name: 'linux-image-6.1.0-56-cloud-amd64-unsigned', version: '6.1.192-2' };

test('the image cache key follows the recipe: the same inputs give the same key, another kernel version or other keys another', async () => {
  const dir = tempDir('ebst-vm-recipe-');
  const keys = await cachedKeys(`${dir}/keys`);
  const again = await cachedKeys(`${dir}/keys`);
  assert.deepEqual(again, keys, 'keys are generated once and then reused');

  const key = recipeKey(describeRecipe(makeRecipe('amd64', KERNEL, keys)));
  assert.match(key, /^[0-9a-f]{16}$/);
  assert.equal(recipeKey(describeRecipe(makeRecipe('amd64', { ...KERNEL }, again))), key);
  assert.notEqual(recipeKey(describeRecipe(makeRecipe('amd64', { ...KERNEL, version: '6.1.192-3' }, keys))), key);

  const arm64 = makeRecipe('arm64', { name: 'linux-image-6.1.0-56-cloud-arm64-unsigned', version: KERNEL.version }, keys);
  assert.notEqual(recipeKey(describeRecipe(arm64)), key, 'each architecture has its own image');

  const otherKeys = await cachedKeys(`${dir}/other-keys`);
  assert.notEqual(recipeKey(describeRecipe(makeRecipe('amd64', KERNEL, otherKeys))), key);
});

test('the recorded recipe lists the packages, has no Node.js and no private key material', async () => {
  const keys = await cachedKeys(`${tempDir('ebst-vm-recipe-')}/keys`);
  const description = describeRecipe(makeRecipe('amd64', KERNEL, keys));
  assert.deepEqual(description.packages, [...GUEST_PACKAGES]);
  assert.ok(!description.packages.some((p) => /node/i.test(p)));
  const text = JSON.stringify(description);
  assert.doesNotMatch(text, /PRIVATE KEY/);
  assert.ok(description.files.some((f) => f.path === '/root/.ssh/authorized_keys' && f.mode === '600'));
});
