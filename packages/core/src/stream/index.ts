export type { TableChange, ChangeConsumer } from './change.ts';
export { toTableChange, dispatch, type RawStreamRecord } from './records.ts';
export { startChangeFollower, type ChangeFollower, type FollowerOptions } from './follower.ts';
export { followChanges } from './local.ts';
export { changeConsumers } from './consumers.ts';
