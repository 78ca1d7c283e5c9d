// Entry point of kemu's built-in workloads: `node dist/workloads/main.js <program> [args...]`.
// The kubelet starts it inside a Pod's namespaces in place of a container image. Only the chosen
// program is imported, so a Pod pays start-up time and memory for nothing else.

type Program = { run(args: string[]): void | Promise<void> };

const programs: Record<string, () => Promise<Program>> = {
  agnhost: () => import('./agnhost/main.js'),
  whoami: () => import('./whoami.js'),
  nginx: () => import('./nginx.js'),
  echoserver: () => import('./echoserver.js'),
  traefik: () => import('../ingress/cli.js'),
  pause: () => import('./pause.js'),
  coredns: () => import('../dns/cli.js'),
};

async function main(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  const load = name === undefined ? undefined : programs[name];
  if (!load) {
    throw new Error(`unknown program ${JSON.stringify(name ?? '')}; built-in programs: ${Object.keys(programs).join(', ')}`);
  }
  await (await load()).run(args);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
