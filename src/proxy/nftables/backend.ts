// What the nftables proxier needs from the kernel side: listing kube-proxy's table and running
// one `nft -f -` transaction. NftTableModel implements it in memory; src/sys runs the real nft.

import { NftTableModel, type NftOp } from './table.js';

export interface NftablesBackend {
  /** Chain names in the table; [] when the table does not exist. */
  listChains(): Promise<string[]>;
  /** Named plain sets in the table; [] when the table does not exist. */
  listSets(): Promise<string[]>;
  /** Elements of a set/map; undefined when it does not exist. */
  listElements(set: string): Promise<{ key: string; value?: string }[] | undefined>;
  /** One atomic transaction; rejects and changes nothing on error. */
  run(ops: readonly NftOp[]): Promise<void>;
}

export function modelBackend(model: NftTableModel): NftablesBackend {
  return {
    listChains: async () => model.chainNames(),
    listSets: async () => model.setNames(),
    listElements: async (set) => model.elements(set),
    run: async (ops) => model.run(ops),
  };
}
