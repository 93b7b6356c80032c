// The node's side of a move to or from the depot (depot.ts), besides the host's book: landing a
// parked VM's files in this node's data dir ready to resume, and deciding, for a VM a restarted
// agent finds in the middle of such a move, where the VM is now.
//
// Park: the depot's park directory is made, vm.json says 'parking', the files go in, the entry is
// renamed into place (the VM is parked), the node's copy goes. Unpark: the files land in a
// directory of the node's, vm.json there says 'unparking', it is renamed into place (the node has
// the VM), the depot's entry is renamed as taken by this node, vm.json no longer says it, the
// taken entry goes. So a restarted node finds, for a VM whose vm.json names a step:
//   parking,   entry in the depot            the park finished: the VM is parked, the node's copy goes
//   parking,   the park's directory there    it did not: the VM stays suspended here
//   parking,   neither                       it finished and another node took the VM since: the copy goes
//   unparking, entry in the depot            the node has it whole: the depot lets go
//   unparking, entry taken by this node      the node has it: only the taken entry is left to go
//   unparking, neither                       another node took it from the depot meanwhile: the copy goes

import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Workload } from '../drivers/qemu/protocol.ts';
import type { Depot, DepotMove } from './depot.ts';
import type { Syncer } from './durable.ts';
import { rebaseOverlay } from './images/disks.ts';
import { DISK_FILE, type VmParts } from './vm-parts.ts';

export type DepotStep = 'parking' | 'unparking';

/**
 * Lands the parked VM's files in `landing` (made here), points its overlay at this node's copy of
 * its base image, writes its seed, then its vm.json with `writeRecord`: a directory that only
 * needs renaming to be the VM's.
 */
export async function landFromDepot(on: { depot: Depot; parts: VmParts; sync: Syncer }, workload: Workload, landing: string, writeRecord: (file: string) => void): Promise<DepotMove> {
  rmSync(landing, { recursive: true, force: true });
  mkdirSync(landing, { mode: 0o700 });
  const moved = await on.depot.takeInto(workload.vm.id, landing, workload);
  if (workload.disk) {
    // The overlay names its base by the parking node's path: point it at this node's copy.
    const base = await on.parts.fetchImage(workload.disk, true);
    await rebaseOverlay(join(landing, DISK_FILE), base);
    on.sync.file(join(landing, DISK_FILE));
  }
  // The seed is made here from the workload, as for a cold migration's receiver.
  await on.parts.ensureSeed(workload, landing, true);
  writeRecord(join(landing, 'vm.json'));
  on.sync.dir(landing);
  return moved;
}

/**
 * Where a VM that a restarted agent found in the middle of a move is now (see the table above):
 * 'here' (the depot is tidied to agree) or 'elsewhere' (the node's copy must go). Without a depot
 * (an agent restarted without --depot) nothing can be known, and the node keeps what it has.
 */
export function settleDepotStep(depot: Depot | null, id: string, step: DepotStep): 'here' | 'elsewhere' {
  if (!depot) return 'here';
  if (step === 'parking') {
    if (depot.isParking(id)) {
      depot.abort(id);
      return 'here';
    }
    return 'elsewhere';
  }
  if (depot.has(id)) depot.letGo(id);
  else if (!depot.wasTakenHere(id)) return 'elsewhere';
  depot.cleared(id);
  return 'here';
}
