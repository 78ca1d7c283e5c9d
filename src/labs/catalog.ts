// The labs shipped in labs/: one folder labs/NN-name/ each, with README.md, lab.yaml and manifests/.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseLabSpec, type LabSpec } from './spec.js';

/** labs/ of this checkout: two levels above this file both in src/labs and in dist/labs. */
export const LABS_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../labs');

const LAB_FOLDER = /^(\d\d)-[a-z0-9-]+$/;

export interface Lab {
  /** The two-digit number, "02". */
  number: string;
  /** The folder name, "02-clusterip-iptables". */
  name: string;
  dir: string;
  spec: LabSpec;
}

function loadLab(root: string, name: string): Lab {
  const dir = path.join(root, name);
  const file = path.join(dir, 'lab.yaml');
  const spec = parseLabSpec(fs.readFileSync(file, 'utf8'), file);
  for (const m of spec.manifests) {
    if (!fs.existsSync(path.join(dir, m))) throw new Error(`${file}: manifests: ${m} does not exist`);
  }
  return { number: LAB_FOLDER.exec(name)![1], name, dir, spec };
}

export function listLabs(root = LABS_ROOT): Lab[] {
  return fs
    .readdirSync(root)
    .filter((n) => LAB_FOLDER.test(n) && fs.existsSync(path.join(root, n, 'lab.yaml')))
    .sort()
    .map((n) => loadLab(root, n));
}

/** A lab by number ("2", "02") or folder name; the error lists the labs there are. */
export function findLab(id: string, root = LABS_ROOT): Lab {
  const labs = listLabs(root);
  const wanted = /^\d+$/.test(id) ? id.padStart(2, '0') : id;
  const lab = labs.find((l) => l.number === wanted || l.name === wanted);
  if (!lab) throw new Error(`no lab "${id}"; there are: ${labs.map((l) => l.name).join(', ')}`);
  return lab;
}
