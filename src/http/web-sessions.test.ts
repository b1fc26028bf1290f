import { createMemoryWebSessionStore } from '../store/memory-web-session-store.js';
import { describeWebSessionsContract } from './web-sessions.contract.js';

// The PostgreSQL store runs the same contract in test/integration/web-sessions-store.test.ts.
describeWebSessionsContract('in memory', async () => ({ store: createMemoryWebSessionStore(), close: async () => {} }));
