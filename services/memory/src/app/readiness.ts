/**
 * Readiness is the conjunction of named conditions (sidecar connected,
 * state recovered, storage reachable, not shutting down). Listeners hear
 * every change so grpc.health.v1 and /ready always agree.
 */
export class Readiness {
  private readonly conditions = new Map<string, boolean>();
  private readonly listeners: ((ready: boolean) => void)[] = [];
  private readonly notes = new Map<string, string>();

  constructor(required: readonly string[]) {
    for (const name of required) this.conditions.set(name, false);
  }

  set(name: string, ok: boolean): void {
    const before = this.ready;
    this.conditions.set(name, ok);
    if (this.ready !== before) for (const listener of this.listeners) listener(this.ready);
  }

  get ready(): boolean {
    return [...this.conditions.values()].every(Boolean);
  }

  /** The conditions that are not met, for /ready and logs. */
  get unmet(): string[] {
    return [...this.conditions].filter(([, ok]) => !ok).map(([name]) => name);
  }

  /**
   * A limitation that does not make the service unready (it still serves
   * part of its API), said on /ready and /status; `undefined` clears it.
   */
  note(name: string, reason: string | undefined): void {
    if (reason === undefined) this.notes.delete(name);
    else this.notes.set(name, reason);
  }

  /** The current notes, by name. */
  get degraded(): Record<string, string> {
    return Object.fromEntries(this.notes);
  }

  onChange(listener: (ready: boolean) => void): void {
    this.listeners.push(listener);
  }
}
