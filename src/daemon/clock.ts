// The daemon's one real clock: every timer of the process on one heap (src/core/clock.ts).
import { RealClock } from '../core/clock.js';

export const clock = new RealClock();
