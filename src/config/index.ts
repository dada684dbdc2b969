export {
  type TwinlensOptions,
  type ExecutionProviderName,
  type LogLevel,
  LOG_LEVELS,
  DEFAULT_OPTIONS,
  PACKAGE_ROOT,
  validateOptions,
  optionsFromEnv,
} from './options.js';
