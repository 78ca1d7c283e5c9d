// Container image -> the program kemu runs instead. kemu pulls no images: a Pod's container is an
// ordinary process, either one of kemu's built-in stand-ins (agnhost, whoami, nginx, the ingress
// echo server, pause) or, for the general-purpose images (busybox, alpine, curl), the given
// command run with the host's own tools. Images are matched by repository path, whatever the
// registry, tag or digest. The container's argv is computed as the kubelet does: `command`
// replaces the image ENTRYPOINT, `args` replaces its CMD, and setting `command` alone drops CMD.

import { posix } from 'node:path';

export interface ImageReference {
  /** The registry host, "docker.io" when the reference names none. */
  registry: string;
  /** The repository path; Docker Hub's official images carry "library/". */
  repository: string;
  tag?: string;
  digest?: string;
}

export type ImageLaunch =
  | { kind: 'builtin'; program: string; args: string[] }
  | { kind: 'exec'; command: string; args: string[] };

/** Why a container cannot start, worded for the container status the kubelet reports. */
export interface ImageFailure {
  kind: 'error';
  reason: 'InvalidImageName' | 'ErrImagePull' | 'RunContainerError';
  message: string;
}

export type ImageResolution = ImageLaunch | ImageFailure;

const component = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const domain = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d+)?$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
const digestPattern = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$/;

/** Parse `[registry/]repo[:tag][@digest]` with Docker's rules; undefined if the reference is malformed. */
export function parseImageReference(image: string): ImageReference | undefined {
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestPattern.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagPattern.test(tag)) return undefined;
  }
  const parts = rest.split('/');
  let registry = 'docker.io';
  const first = parts[0]!;
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    if (!domain.test(first)) return undefined;
    registry = first;
    parts.shift();
  }
  if (parts.length === 0 || !parts.every((p) => component.test(p))) return undefined;
  if (registry === 'docker.io' && parts.length === 1) parts.unshift('library');
  return { registry, repository: parts.join('/'), tag, digest };
}

interface ImageSpec {
  /** How the image is named in the list of supported images. */
  shownAs: string;
  /** Repository paths that mean this image (Docker Hub official images without "library/"). */
  repositories: string[];
  entrypoint: string[];
  cmd: string[];
  launch(argv: string[]): ImageLaunch | ImageFailure;
}

const builtin = (program: string, args: string[]): ImageLaunch => ({ kind: 'builtin', program, args });
const exec = (argv: string[]): ImageLaunch => ({ kind: 'exec', command: argv[0] ?? '', args: argv.slice(1) });
const base = (path: string | undefined) => posix.basename(path ?? '');

/** What runc reports when a minimal image lacks the program asked for. */
function notInImage(argv: string[]): ImageFailure {
  return {
    kind: 'error',
    reason: 'RunContainerError',
    message: `exec: ${JSON.stringify(argv[0] ?? '')}: executable file not found in $PATH`,
  };
}

/** Images without a shell (scratch / distroless) run their one binary and nothing else. */
const singleBinary = (binary: string, program: string) => (argv: string[]) =>
  base(argv[0]) === binary ? builtin(program, argv.slice(1)) : notInImage(argv);

/** Strip a wrapper entrypoint script that ends in `exec "$@"`. */
const afterWrapper = (argv: string[], wrapper: string) => (argv[0] === wrapper ? argv.slice(1) : argv);

const images: ImageSpec[] = [
  {
    shownAs: 'registry.k8s.io/e2e-test-images/agnhost',
    repositories: ['e2e-test-images/agnhost', 'kubernetes-e2e-test-images/agnhost'],
    entrypoint: ['/agnhost'],
    cmd: ['pause'],
    launch: (argv) => (base(argv[0]) === 'agnhost' ? builtin('agnhost', argv.slice(1)) : exec(argv)),
  },
  {
    shownAs: 'traefik/whoami',
    repositories: ['traefik/whoami', 'containous/whoami'],
    entrypoint: ['/whoami'],
    cmd: [],
    launch: singleBinary('whoami', 'whoami'),
  },
  {
    shownAs: 'nginx',
    repositories: ['nginx'],
    entrypoint: ['/docker-entrypoint.sh'],
    cmd: ['nginx', '-g', 'daemon off;'],
    launch: (argv) => {
      const inner = afterWrapper(argv, '/docker-entrypoint.sh');
      // nginx's own flags (-g, -c, …) configure a real nginx; the stand-in has nothing to configure.
      return ['nginx', 'nginx-debug'].includes(base(inner[0])) ? builtin('nginx', []) : exec(inner);
    },
  },
  {
    shownAs: 'registry.k8s.io/coredns/coredns',
    repositories: ['coredns/coredns'],
    entrypoint: ['/coredns'],
    cmd: [],
    launch: singleBinary('coredns', 'coredns'),
  },
  { shownAs: 'busybox', repositories: ['busybox'], entrypoint: [], cmd: ['sh'], launch: exec },
  { shownAs: 'alpine', repositories: ['alpine'], entrypoint: [], cmd: ['/bin/sh'], launch: exec },
  {
    shownAs: 'curlimages/curl',
    repositories: ['curlimages/curl'],
    entrypoint: ['/entrypoint.sh'],
    cmd: ['curl'],
    launch: (argv) => {
      const inner = afterWrapper(argv, '/entrypoint.sh');
      // The image's entrypoint treats leading options as curl's.
      return exec(argv[0] === '/entrypoint.sh' && inner[0]?.startsWith('-') ? ['curl', ...inner] : inner);
    },
  },
  {
    shownAs: 'k8s.gcr.io/ingressconformance/echoserver',
    repositories: ['ingressconformance/echoserver'],
    entrypoint: ['/echoserver'],
    cmd: [],
    launch: singleBinary('echoserver', 'echoserver'),
  },
  {
    // kemu's Traefik-like ingress controller (src/ingress/cli.ts) stands in for Traefik.
    shownAs: 'traefik',
    repositories: ['traefik'],
    entrypoint: ['/entrypoint.sh'],
    cmd: ['traefik'],
    launch: (argv) => {
      const inner = afterWrapper(argv, '/entrypoint.sh');
      // The image's entrypoint script runs traefik when the first argument is a flag.
      if (inner[0]?.startsWith('-')) return builtin('traefik', inner);
      return base(inner[0]) === 'traefik' ? builtin('traefik', inner.slice(1)) : exec(inner);
    },
  },
  {
    shownAs: 'registry.k8s.io/pause',
    repositories: ['pause', 'google_containers/pause', 'google-containers/pause'],
    entrypoint: ['/pause'],
    cmd: [],
    launch: singleBinary('pause', 'pause'),
  },
];

export const supportedImages: readonly string[] = images.map((i) => i.shownAs);

/**
 * What to run for a container with this image, command and args (the Pod spec's fields; an empty
 * list counts as unset, as in Kubernetes).
 */
export function resolveImage(image: string, command: readonly string[] = [], args: readonly string[] = []): ImageResolution {
  const ref = parseImageReference(image);
  if (!ref) {
    return {
      kind: 'error',
      reason: 'InvalidImageName',
      message: `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format`,
    };
  }
  // "library/" marks Docker Hub's official images, on Docker Hub and on its mirrors alike.
  const path = ref.repository.replace(/^library\//, '');
  const spec = images.find((i) => i.repositories.includes(path));
  if (!spec) {
    return {
      kind: 'error',
      reason: 'ErrImagePull',
      message: `Failed to pull image "${image}": kemu runs no container images, only built-in stand-ins for: ${supportedImages.join(', ')}`,
    };
  }
  const argv = command.length > 0 ? [...command, ...args] : [...spec.entrypoint, ...(args.length > 0 ? args : spec.cmd)];
  return spec.launch(argv);
}
