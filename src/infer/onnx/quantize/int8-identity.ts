import { createHash } from 'node:crypto';

import type { BackboneIdentity } from '../../backbone';

/**
 * The identity of the backbone as the int8 graph computes it. Its features differ from the
 * float ones by about 0.2% (cosine), enough that a head trained on one scores a few test
 * photos differently on the other; so it gets its own fingerprint. Bottleneck caches then
 * keep int8 and float vectors apart, and the daemon warns when a model trained on one runs
 * on the other.
 */
export type Int8Identity = BackboneIdentity & { arithmetic: 'int8' };

/** Bumped when the quantisation would compute different features (calibration, method). */
const INT8_VERSION = 1;

export function int8Identity(identity: BackboneIdentity): Int8Identity {
  const fingerprint = createHash('sha256')
    .update(`${identity.fingerprint};arithmetic=int8;version=${INT8_VERSION}`)
    .digest('hex');

  return { ...identity, fingerprint, arithmetic: 'int8' };
}
