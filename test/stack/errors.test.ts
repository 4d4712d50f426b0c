import { getSystemErrorMap } from 'node:util';
import { describe, expect, it } from 'vitest';
import { strerrorWithoutLibc } from '../../src/stack/errors.js';
import { native } from '../../src/stack/native/index.js';

describe('strerror without the addon', () => {
  it("says what libc's strerror(3) says, for every errno Node knows", () => {
    const errnos = [...getSystemErrorMap().keys()].map((k) => -k).filter((n) => n > 0 && n < 1000);
    expect(errnos.length).toBeGreaterThan(60);
    const differ = errnos.filter((n) => strerrorWithoutLibc(n) !== native.strerror(n)).map((n) => [n, strerrorWithoutLibc(n), native.strerror(n)]);
    expect(differ).toEqual([]);
    // either sign, as the addon's errors and Node's carry them
    expect([strerrorWithoutLibc(-21), strerrorWithoutLibc(21)]).toEqual(['Is a directory', 'Is a directory']);
  });
});
