// Kysely table types for the schema of migrations/. Both drivers are configured (connection.ts) so
// that `date` comes back as 'YYYY-MM-DD' text, `timestamptz` as Date, and int8/numeric as strings.
import type { ColumnType, JSONColumnType } from 'kysely';
import type { Kpis } from '../kpis/kpis.js';

/** A timestamptz: read as Date, written as Date or ISO text. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type TimestampDefault = ColumnType<Date, Date | string | undefined, Date | string>;
/** A date column: 'YYYY-MM-DD'. */
type DateText = string;
/** bigint identity: read as a decimal string (parse deliberately), never written. */
type BigIdentity = ColumnType<string, never, never>;

export interface LearnerTable {
  user_id: string;
  org_id: string | null;
  display_name: string | null;
  locale: ColumnType<'ko' | 'en', 'ko' | 'en' | undefined, 'ko' | 'en'>;
  /** IANA zone of the reports; NULL = REPORT_TIMEZONE. */
  time_zone: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: TimestampDefault;
}

export interface TopicTable {
  topic_id: string;
  name: string;
  subject: string | null;
  /** The name in each report language; NULL = `name` is shown and the report says so. */
  name_ko: ColumnType<string | null, string | null | undefined, string | null>;
  name_en: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface ItemTable {
  item_id: string;
  topic_id: string;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  meta: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: TimestampDefault;
  active: ColumnType<boolean, boolean | undefined, boolean>;
}

export interface ExamSessionTable {
  session_id: string;
  user_id: string;
  exam_id: string | null;
  status: 'open' | 'completed' | 'abandoned';
  started_at: Timestamp;
  completed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  mode: ColumnType<'fixed' | 'adaptive', 'fixed' | 'adaptive' | undefined, 'fixed' | 'adaptive'>;
  /** An adaptive session's settings (snake_case, as posted, defaults filled in); null when fixed. */
  settings: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
}

export interface AttemptTable {
  attempt_id: BigIdentity;
  session_id: string;
  user_id: string;
  item_id: string;
  topic_id: string;
  correct: boolean;
  response_time_ms: number | null;
  hints: ColumnType<number, number | undefined, number>;
  answered_at: Timestamp;
  client_attempt_id: string | null;
}

export interface FeaturesTopicDailyTable {
  user_id: string;
  topic_id: string;
  date: DateText;
  attempts: number;
  correct: number;
  avg_time_ms: number | null;
  rt_median: number | null;
  hints: number;
  theta_estimate: number | null;
  theta_se: number | null;
  improvement: number | null;
  last_seen_at: Timestamp;
  computed_at: TimestampDefault;
}

export interface WeeklyKpiTable {
  user_id: string;
  week_start: DateText;
  kpis: JSONColumnType<Kpis>;
  as_of: DateText;
  created_at: TimestampDefault;
  updated_at: TimestampDefault;
}

export interface MirtFitMetaTable {
  run_id: string;
  model: 'Rasch' | '2PL' | '3PL';
  status: 'succeeded' | 'failed';
  model_spec: JSONColumnType<Record<string, unknown>>;
  metrics: JSONColumnType<Record<string, unknown>>;
  fitted_at: TimestampDefault;
}

export interface ItemParams {
  a: number;
  b: number;
  c: number;
  d: number;
  se_a?: number | null;
  se_b?: number | null;
  se_c?: number | null;
  n?: number;
  p?: number;
}

export interface MirtItemParamsTable {
  item_id: string;
  version: string;
  model: string;
  params: JSONColumnType<ItemParams>;
  fitted_at: TimestampDefault;
}

export interface MirtItemFitTable {
  run_id: string;
  item_id: string;
  infit: number;
  outfit: number;
  infit_z: number;
  outfit_z: number;
  sx2: number | null;
  sx2_df: number | null;
  sx2_p: number | null;
  sx2_rmsea: number | null;
  previous_run: string | null;
  da: number | null;
  db: number | null;
  dc: number | null;
  lord_chi2: number | null;
  drift_df: number | null;
  drift_p: number | null;
  q_flag: boolean | null;
  area: number | null;
  drift_flag: boolean | null;
}

export interface MirtModelFitTable {
  run_id: string;
  m2: number | null;
  m2_df: number | null;
  m2_p: number | null;
  rmsea: number | null;
  rmsea_5: number | null;
  rmsea_95: number | null;
  srmsr: number | null;
  tli: number | null;
  cfi: number | null;
  marginal_rxx: number;
  empirical_rxx: number;
  notes: JSONColumnType<string[]>;
}

export interface MirtDroppedAnchorTable {
  run_id: string;
  item_id: string;
  db: number;
  z: number;
  round: number;
}

export interface MirtItemParamsCurrentView {
  item_id: string;
  version: string;
  model: string;
  params: ItemParams;
  fitted_at: Date;
}

export interface MirtAbilityTable {
  id: BigIdentity;
  user_id: string;
  theta: number;
  se: number | null;
  model: string | null;
  version: string | null;
  source: 'calibration' | 'online';
  session_id: string | null;
  n_responses: number | null;
  fitted_at: TimestampDefault;
}

export interface LearnerGoalTable {
  user_id: string;
  target_theta: number;
  target_date: DateText | null;
  updated_at: TimestampDefault;
}

export interface ReportArtifactsTable {
  id: BigIdentity;
  user_id: string;
  week_start: DateText;
  edition: ColumnType<'learner' | 'teacher', 'learner' | 'teacher' | undefined, 'learner' | 'teacher'>;
  format: 'html' | 'pdf';
  url: string;
  storage_key: string;
  bytes: number | null;
  sha256: string | null;
  generated_at: TimestampDefault;
}

export interface InactivityAlertTable {
  user_id: string;
  last_active_at: Timestamp;
  detected_on: DateText;
  days_inactive: number;
  churn_risk: number | null;
  resolved_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface CohortTable {
  cohort_id: string;
  name: string;
  created_at: TimestampDefault;
}

export interface CohortMemberTable {
  cohort_id: string;
  user_id: string;
}

export type JobStatus = 'running' | 'succeeded' | 'partial' | 'failed';

export interface JobRunTable {
  run_id: BigIdentity;
  job: string;
  params: JSONColumnType<Record<string, unknown>>;
  status: JobStatus;
  started_at: TimestampDefault;
  finished_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  stats: JSONColumnType<Record<string, unknown>>;
  error: string | null;
}

export interface CatServedItemTable {
  session_id: string;
  position: number;
  item_id: string;
  topic_id: string;
  run_id: string;
  theta: number;
  se: number;
  served_at: TimestampDefault;
}

export interface CatExposureRunTable {
  run_id: string;
  sessions: number;
}

export interface CatExposureTable {
  run_id: string;
  item_id: string;
  served: number;
}

/** Sympson–Hetter parameters imported for a calibration run (migration 0008). */
export interface CatShParamTable {
  run_id: string;
  item_id: string;
  sh_k: number;
  imported_at: TimestampDefault;
}

export interface SchemaMigrationsTable {
  version: string;
  name: string;
  applied_at: TimestampDefault;
}

export interface Schema {
  learner: LearnerTable;
  topic: TopicTable;
  item: ItemTable;
  exam_session: ExamSessionTable;
  attempt: AttemptTable;
  features_topic_daily: FeaturesTopicDailyTable;
  weekly_kpi: WeeklyKpiTable;
  mirt_fit_meta: MirtFitMetaTable;
  mirt_item_params: MirtItemParamsTable;
  mirt_item_params_current: MirtItemParamsCurrentView;
  mirt_item_fit: MirtItemFitTable;
  mirt_model_fit: MirtModelFitTable;
  mirt_dropped_anchor: MirtDroppedAnchorTable;
  mirt_ability: MirtAbilityTable;
  learner_goal: LearnerGoalTable;
  report_artifacts: ReportArtifactsTable;
  inactivity_alert: InactivityAlertTable;
  job_run: JobRunTable;
  cat_served_item: CatServedItemTable;
  cat_exposure_run: CatExposureRunTable;
  cat_exposure: CatExposureTable;
  cat_sh_param: CatShParamTable;
  cohort: CohortTable;
  cohort_member: CohortMemberTable;
  schema_migrations: SchemaMigrationsTable;
}
