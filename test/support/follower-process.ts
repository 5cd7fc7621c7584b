/**
 * A change follower in a process of its own, with the app's consumers (webhook delivery
 * included), so a test can kill it outright (SIGKILL) mid-stream and start it again.
 * Configured entirely by the environment: DYNAMODB_ENDPOINT, TABLE_NAME, WEBHOOK_*, FOLLOWER_NAME.
 */
import { createCoreContext, followChanges } from '@coupons/api';


const core = createCoreContext(process.env);
const follower = followChanges(core, { name: process.env.FOLLOWER_NAME ?? 'child', idleMs: 20 });
console.log('following');
process.on('SIGTERM', () => void follower.stop().then(() => process.exit(0)));
