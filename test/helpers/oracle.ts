// Whether the real keepalived is here to be the oracle (`keepalived -t`) of a comparison test.
import { execFileSync } from 'node:child_process';

export function hasKeepalived(): boolean {
  try {
    execFileSync('keepalived', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
