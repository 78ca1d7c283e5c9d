// Pods of a test cluster as a user reaches them through kemu: which ones a selector matches (name,
// IP, node), and HTTP from inside one of them.

import type { Pod } from '../../../src/api/types.js';
import type { KemuCli } from '../kemu-cli.js';

export interface PodInfo {
  name: string;
  ip: string;
  node: string;
}

export async function listPods(cli: KemuCli, selector: string, namespace = 'default'): Promise<PodInfo[]> {
  const list = JSON.parse(await cli.kemuOk(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json'])) as { items: Pod[] };
  return list.items.map((p) => ({ name: p.metadata.name ?? '', ip: p.status?.podIP ?? '', node: p.spec.nodeName ?? '' }));
}

/**
 * `curl -s --max-time 2 url` in a Pod, asked again up to `tries` times 200 ms apart until accept
 * takes the body (kube-proxy syncs at most once a second: a first request may beat the rules).
 * Returns the last body, accepted or not, for the caller to assert on.
 */
export async function curlInPod(cli: KemuCli, pod: string, url: string, accept: (body: string) => boolean, tries = 30): Promise<string> {
  let body = '';
  for (let i = 0; i < tries; i++) {
    body = (await cli.kemu(['exec', pod, '--', 'curl', '-s', '--max-time', '2', url])).stdout.trim();
    if (accept(body)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return body;
}
