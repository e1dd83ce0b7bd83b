// keepalived's rise/fall hysteresis for vrrp_script results (vrrp_track.c): `fall` failures in a
// row take a tracker down, `rise` successes in a row bring it up. At start-up the script counts
// as up (its counter preset to rise−1, so one success confirms it), or down with init_fail.
export class RiseFall {
  private streak = 0;
  private lastOk: boolean | undefined;
  up: boolean;

  constructor(
    private readonly rise: number,
    private readonly fall: number,
    initFail = false,
  ) {
    this.up = !initFail;
    if (!initFail) {
      this.lastOk = true;
      this.streak = rise - 1;
    }
  }

  /** Feed one result; returns true when the tracker changed state. */
  result(ok: boolean): boolean {
    this.streak = ok === this.lastOk ? this.streak + 1 : 1;
    this.lastOk = ok;
    const flips = ok ? !this.up && this.streak >= this.rise : this.up && this.streak >= this.fall;
    if (flips) this.up = ok;
    return flips;
  }
}
