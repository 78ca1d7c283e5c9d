// agnhost: one binary, many test programs picked by the first argument. kemu ships the networking
// subcommands; each is imported only when chosen so a Pod starts fast.

type Subcommand = { run(args: string[]): void | Promise<void> };

const subcommands: Record<string, () => Promise<Subcommand>> = {
  netexec: () => import('./netexec.js'),
  'serve-hostname': () => import('./serve-hostname.js'),
  pause: () => import('./pause.js'),
};

export async function run(args: string[]): Promise<void> {
  const [name, ...rest] = args;
  const load = name === undefined ? undefined : subcommands[name];
  if (!load) {
    const shown = name === undefined ? 'no subcommand given' : `unknown command "${name}" for "agnhost"`;
    throw new Error(`${shown}; kemu's agnhost supports: ${Object.keys(subcommands).join(', ')}`);
  }
  await (await load()).run(rest);
}
