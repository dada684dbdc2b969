/** The service API suite (service-api.ts) on the embedded catalog, in a fresh temporary directory. */
import { startTestServer } from '../helpers/server.js';
import { describeServiceApi } from './service-api.js';

describeServiceApi('embedded', () => startTestServer());
