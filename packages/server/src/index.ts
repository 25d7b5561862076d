export { loadConfig, ConfigError, type Config } from './config.js';
export { createLogger, REDACTED_PATHS, type Logger } from './logger.js';
export { startTollgate, type RunningTollgate, type StartOptions } from './server.js';
