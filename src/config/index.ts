export {
  type TwinlensOptions,
  type ExecutionProviderName,
  type LogLevel,
  LOG_LEVELS,
  DEFAULT_OPTIONS,
  validateOptions,
  optionsFromEnv,
} from './options.js';
export { PACKAGE_ROOT, PACKAGE_VERSION, DIST_DIR, CLI_ENTRY } from './package-root.js';
