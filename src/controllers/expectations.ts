// Upstream's ControllerExpectations: after a controller asks for N creations (or deletions) it
// waits until its informer has seen them before deciding again, so a cache that lags its own
// writes never makes it create the same Pods twice. A fresh controller has no expectations and
// acts on a freshly synced cache, which is why a restart is safe too. Records expire (5 minutes,
// as upstream) so a lost event cannot wedge a controller.

const EXPECTATIONS_TTL_MS = 5 * 60 * 1000;

interface Record {
  adds: number;
  /** Keys of the objects whose deletion is still to be observed. */
  deletes: Set<string>;
  since: number;
}

export class Expectations {
  private readonly records = new Map<string, Record>();

  constructor(private readonly now: () => number = Date.now) {}

  expect(controllerKey: string, adds: number, deleteKeys: string[] = []): void {
    this.records.set(controllerKey, { adds, deletes: new Set(deleteKeys), since: this.now() });
  }

  creationObserved(controllerKey: string): void {
    const r = this.records.get(controllerKey);
    if (r && r.adds > 0) r.adds--;
  }

  deletionObserved(controllerKey: string, objectKey: string): void {
    this.records.get(controllerKey)?.deletes.delete(objectKey);
  }

  /** True when the controller may act on its cache for this key. */
  satisfied(controllerKey: string): boolean {
    const r = this.records.get(controllerKey);
    if (!r) return true;
    if (r.adds <= 0 && r.deletes.size === 0) return true;
    return this.now() - r.since > EXPECTATIONS_TTL_MS;
  }

  forget(controllerKey: string): void {
    this.records.delete(controllerKey);
  }
}
