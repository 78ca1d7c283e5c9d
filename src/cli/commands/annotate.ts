// kemu annotate TYPE NAME KEY=VALUE... KEY-... [--overwrite] [-l SEL | --all]

import { metadataCommand } from '../metadata-edit.js';

export const annotateCommand = metadataCommand('annotate');
