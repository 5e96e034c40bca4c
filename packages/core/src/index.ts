export { AccessControl, DEFAULT_VHOST, NAME_MAX_BYTES } from "./access-control.js";
export type { PermissionDefinition, SecuritySnapshot, UserDefinition } from "./access-control.js";
export { Broker } from "./broker.js";
export type { BrokerOptions, RecoverySummary } from "./broker.js";
export type { Consumer } from "./consumer.js";
export { deadLetterRoutingKeys, deathHeaderChanges, isDeathCycle } from "./dead-letter.js";
export type { DeadLetterReason, DeathEvent } from "./dead-letter.js";
export {
  accessRefused,
  CoreError,
  commandInvalid,
  notAllowed,
  notFound,
  notImplemented,
  preconditionFailed,
  resourceError,
  resourceLocked,
} from "./errors.js";
export type { CoreErrorCode } from "./errors.js";
export { Exchange, EXCHANGE_TYPES } from "./exchange.js";
export type { Destination, ExchangeType } from "./exchange.js";
export { loadedBody, PERSISTENT_DELIVERY_MODE } from "./message.js";
export type { Message, MessageProperties, PropertiesCodec, PropertiesRewrite } from "./message.js";
export { parseExpiration } from "./message-expiry.js";
export { MemoryStore } from "./memory-store.js";
export {
  DEFAULT_HASHING_ALGORITHM,
  HASHING_ALGORITHMS,
  hashPassword,
  isHashingAlgorithm,
  passwordHashProblem,
  verifyPassword,
} from "./password-hash.js";
export type { HashingAlgorithm } from "./password-hash.js";
export {
  compilePermissionPattern,
  permissionPatternProblem,
  permissionResourceName,
  unrestrictedAccess,
  VhostPermissions,
} from "./permissions.js";
export type { PermissionKind, PermissionPatterns, ResourceAccess, ResourceKind } from "./permissions.js";
export { PriorityReadyList, priorityLevel } from "./priority-ready-list.js";
export { Queue, READ_AHEAD_ENTRIES } from "./queue.js";
export type { DeadLetterSink, QueueEntry, RecoveredEntry } from "./queue.js";
export {
  assertQueueArgumentsEquivalent,
  MAX_EXPIRY_MS,
  MAX_PRIORITY,
  queueSettings,
  validateQueueDeclaration,
} from "./queue-arguments.js";
export type { OverflowBehaviour, QueueFlags, QueueSettings, QueueType } from "./queue-arguments.js";
export { FifoReadyList } from "./ready-list.js";
export type { ReadyEntry, ReadyList } from "./ready-list.js";
export type {
  BindingDefinition,
  ExchangeDefinition,
  MessageStore,
  QueueDefinition,
  RecoverOptions,
  RecoveredMessage,
  RecoveredMessages,
  RecoveredState,
  StoredMessage,
  StoreStats,
} from "./store.js";
export { SECURITY_FILE_NAME, SecurityFile } from "./security-file.js";
export { DEFAULT_EXCHANGE, VHost } from "./vhost.js";
export type {
  ExchangeDeclaration,
  PublishResult,
  QueueDeclaration,
  QueueDeclareResult,
  VHostOptions,
} from "./vhost.js";
export { BodyCache, DEFAULT_BODY_CACHE_BYTES } from "./body-cache.js";
export type { BodyCacheStats } from "./body-cache.js";
export { WalStore } from "./wal-store.js";
export type { WalStoreOptions } from "./wal-store.js";
