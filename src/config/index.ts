export {
  type TwinlensOptions,
  type OptionName,
  type ExecutionProviderName,
  type LogLevel,
  EXECUTION_PROVIDERS,
  LOG_LEVELS,
  OPTION_SCHEMA,
  DEFAULT_OPTIONS,
  SERVE_DEFAULTS,
  optionEntries,
  validateOptions,
  optionsFromEnv,
} from './options.js';
export { type OptionSpec, type OptionKind, type FlagSpec, type FlagScope, shown } from './option-spec.js';
export { type OptionsTableStyle, renderOptionsTable, optionsTableBlock, withOptionsTable, OPTIONS_TABLE_BEGIN, OPTIONS_TABLE_END } from './render-options-table.js';
export { PACKAGE_ROOT, PACKAGE_VERSION, DIST_DIR, CLI_ENTRY } from './package-root.js';
