export {
  type TwinlensOptions,
  type ExecutionProviderName,
  DEFAULT_OPTIONS,
  PACKAGE_ROOT,
  validateOptions,
  optionsFromEnv,
} from './options.js';
