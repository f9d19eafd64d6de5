// Public API of the adaptive-testing engine (pure: imports only the IRT engine). See docs/cat.md.

export { CatBank, type CatBankOptions, type CatItem } from './bank.js';
export {
  CatEngine,
  type CatSettings,
  type CatState,
  type Exposure,
  type NextStep,
  type Rule,
  type SelectionStats,
  type StopReason,
} from './engine.js';
export {
  type CatSimulation,
  type CatSimulationOptions,
  type CatSimulationSummary,
  calibrateSympsonHetter,
  type SympsonHetterCalibration,
  type SympsonHetterOptions,
  simulateCat,
  type ThetaDistribution,
} from './simulate.js';
