// Child process running a group of subscribers for the load generator (see group.ts).
import { LocalSubscriberGroup, type GroupConfig } from './group.js';
import { serveGroup } from './worker-loop.js';

serveGroup<GroupConfig>(new LocalSubscriberGroup());
