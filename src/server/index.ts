/** The gRPC edge: the server, its services, admission and the one error-to-status mapping. */
export { createTwinlensServer, type TwinlensServer, HEALTH_SERVICES } from './server.js';
export { statusFromError, type StatusObject } from './status-from-error.js';
export { DESCRIPTOR_SET_PATH } from './reflection.js';
export { type CallAdmission, type CallAdmissionOptions, createCallAdmission, IMAGE_CALL_PATHS } from './call-admission.js';
