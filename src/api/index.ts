export { createTwinlensServer, type TwinlensServer, HEALTH_SERVICES } from './server.js';
export { createEngine } from './create-engine.js';
export { seedDemoCatalog } from './seed-demo-catalog.js';
export { statusFromError, type StatusObject } from './status-from-error.js';
export { type Logger, type LogFields, type PinoLoggerOptions, createPinoLogger, consoleLogger, silentLogger } from './logger.js';
export { DESCRIPTOR_SET_PATH } from './reflection.js';
export { type CallAdmission, type CallAdmissionOptions, createCallAdmission, IMAGE_CALL_PATHS } from './call-admission.js';
