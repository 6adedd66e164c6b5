/**
 * Unanswered probes in a row, per backend of each service. A backend is down once its streak reaches the
 * service's `failures` (one slow answer does not fail a cluster over), stays down while it does not
 * answer, and is up again at its first answer.
 */
export class ProbeStreaks {
  private readonly misses = new Map<string, Map<string, number>>();

  /**
   * Record one round of `service`: the backends that did not answer, with why. `markedDown` are those
   * down now (also by an earlier run's probe). Returns the backends down after this round, with why.
   */
  record(service: string, unanswered: ReadonlyMap<string, string>, failures: number, markedDown: ReadonlySet<string>): Map<string, string> {
    const previous = this.misses.get(service) ?? new Map<string, number>();
    const streaks = new Map([...unanswered.keys()].map((backend) => [backend, (previous.get(backend) ?? 0) + 1]));
    this.misses.set(service, streaks);
    const down = new Map<string, string>();
    for (const [backend, why] of unanswered) {
      const streak = streaks.get(backend)!;
      if (streak >= failures || markedDown.has(backend)) down.set(backend, `${why}; ${streak} unanswered in a row`);
    }
    return down;
  }
}
