// Waiting for the cluster to reach a state: check, sleep, check again, until a deadline or ^C.

const POLL_INTERVAL_MS = 200;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

/** Resolves true once check() is true, false when timeoutMs passed or the signal aborted first. */
export async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    const left = deadline - Date.now();
    if (left <= 0 || signal.aborted) return false;
    await sleep(Math.min(POLL_INTERVAL_MS, left), signal);
  }
}
