export { Allocation, ip4Number, ip4PortKey, type Channel, type ClientRef, type ClientTransport, type Permission } from './allocation.js';
export { AllocationBroker, type BrokerOptions, type Grant, type PortRequest } from './broker.js';
export { C, COUNTERS, counterBytes, createCounters, sumCounters, type CounterName } from './counters.js';
export { LIFETIME, TurnCore, type TurnCoreOptions, type TurnHost } from './core.js';
export { Credentials, md5Key, restPassword, restUsername, type CredentialOptions, type KeyLookup } from './credentials.js';
export { TurnError } from './errors.js';
export { inRange, parseIp, parseIpRange, RESTRICTED_RANGES, type IpRange } from './ip.js';
export { NonceIssuer } from './nonce.js';
export { PeerPolicy, type PeerPolicyOptions } from './policy.js';
