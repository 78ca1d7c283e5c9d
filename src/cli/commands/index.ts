// Every verb the kemu command knows, in the order `kemu help` lists them. Lab verbs (up, down,
// status, demo, ...) are added here next to the kubectl ones.

import type { Command } from '../context.js';
import { apiResourcesCommand } from './api-resources.js';
import { annotateCommand } from './annotate.js';
import { componentCommand } from './component.js';
import { controlPlaneCommand, demoCommand, downCommand, nodeAgentCommand, statusCommand, upCommand } from './lifecycle.js';
import { labCommand } from './lab.js';
import { labelCommand } from './label.js';
import { applyCommand } from './apply.js';
import { createCommand } from './create.js';
import { execCommand } from './exec.js';
import { deleteCommand } from './delete.js';
import { describeCommand } from './describe.js';
import { getCommand } from './get.js';
import { logsCommand } from './logs.js';
import { patchCommand } from './patch.js';
import { rulesCommand } from './rules.js';
import { scaleCommand } from './scale.js';
import { versionCommand } from './version.js';
import { waitCommand } from './wait.js';

export const COMMANDS: Command[] = [
  getCommand,
  describeCommand,
  applyCommand,
  createCommand,
  deleteCommand,
  patchCommand,
  labelCommand,
  annotateCommand,
  scaleCommand,
  waitCommand,
  logsCommand,
  execCommand,
  rulesCommand,
  apiResourcesCommand,
  versionCommand,
  upCommand,
  downCommand,
  statusCommand,
  componentCommand,
  demoCommand,
  labCommand,
  controlPlaneCommand,
  nodeAgentCommand,
];
