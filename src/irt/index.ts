// Public API of the IRT engine (pure: no I/O). See docs/irt.md.

export {
  bracketRoot,
  chiSquareCdf,
  chiSquareUpper,
  gammaPQ,
  logGamma,
  noncentralChiSquareCdf,
} from '../math/distributions.js';
export { normalCdf, normalQuantile } from '../math/normal.js';
export {
  benjaminiHochberg,
  calibrationDrift,
  type DriftItem,
  type DriftOptions,
  type ItemDrift,
  itemDrift,
} from './drift.js';
export { MAX_BFGS_PARAMS, PARALLEL_MIN_OBS, prepareEstepThreads } from './em.js';
export type { Acceleration } from './em-acceleration.js';
export { type CalibrateOptions, type Calibration, calibrate, type ItemEstimate } from './estimate.js';
export {
  calibrationFitModel,
  empiricalReliability,
  type FitModel,
  type FitOptions,
  type FitResult,
  fitStatistics,
  type ItemFit,
  infitOutfit,
  type ModelFit,
  marginalReliability,
  misfitFlags,
} from './fit.js';
export { itemInformation, testInformation } from './information.js';
export {
  AnchorScreeningError,
  applyLinking,
  calibrateLinked,
  type DroppedAnchor,
  type LinkedCalibrateOptions,
  type LinkedCalibration,
  type LinkingConstants,
  type LinkingMethod,
  MIN_FIXED_ANCHORS,
  meanSigma,
  type ScreenedLinking,
  type ScreenOptions,
  screenAnchors,
  stockingLord,
  transformCovariance,
  transformItem,
} from './linking.js';
export {
  type ItemModel,
  type ItemParams,
  type ItemPriors,
  itemModel,
  logTable,
  type ModelName,
  type ParamCovariance,
  probability,
} from './models.js';
export { DEFAULT_GRID, type Grid, gridNodes, makeGrid, normalWeights } from './quadrature.js';
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
