// One log line in the format of Go's standard logger ("2006/01/02 15:04:05 message"), written to
// stdout so the kubelet's log capture shows it as `kubectl logs` would.

export function goLog(message: string): void {
  process.stdout.write(`${goLogTimestamp(new Date())} ${message}\n`);
}

export function goLogTimestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
