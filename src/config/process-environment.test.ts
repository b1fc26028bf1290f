import { describe, expect, it } from 'vitest';
import { inheritedEnvironment } from './process-environment.js';

describe('inheritedEnvironment', () => {
  it('copies the defined variables and drops the undefined ones', () => {
    const env = inheritedEnvironment({ PATH: '/usr/bin', EMPTY: '', UNSET: undefined });
    expect(env).toEqual({ PATH: '/usr/bin', EMPTY: '' });
  });

  it('reads the process environment by default, as a copy', () => {
    const env = inheritedEnvironment();
    expect(env.PATH).toBe(process.env.PATH);
    env.PATH = 'changed';
    expect(process.env.PATH).not.toBe('changed');
  });
});
