// Public API of the IRT engine (pure: no I/O). See docs/irt.md.

export {
  type CalibrateOptions,
  type Calibration,
  calibrate,
  type ItemEstimate,
  PARALLEL_MIN_OBS,
} from './estimate.js';
export { itemInformation, testInformation } from './information.js';
export {
  applyLinking,
  calibrateLinked,
  type LinkedCalibrateOptions,
  type LinkingConstants,
  type LinkingMethod,
  MIN_FIXED_ANCHORS,
  meanSigma,
  stockingLord,
  transformItem,
} from './linking.js';
export {
  type ItemModel,
  type ItemParams,
  type ItemPriors,
  itemModel,
  logTable,
  type ModelName,
  probability,
} from './models.js';
export { type Grid, gridNodes, makeGrid, normalWeights } from './quadrature.js';
export {
  type DataCheckOptions,
  type ExcludedItem,
  type ExcludedPerson,
  fromIndexed,
  fromMatrix,
  fromTriples,
  type IndexedResponses,
  InvalidResponseError,
  type ItemExclusionReason,
  type ResponseData,
  type ResponseTriple,
} from './responses.js';
export {
  type Abilities,
  marginalLogLik,
  OnlineScorer,
  type PositionalItem,
  type ScoreMethod,
  type ScoreOptions,
  scorePersons,
  scorePositional,
} from './scoring.js';
export { Rng, type Simulated, type SimulateOptions, simulate } from './simulate.js';
