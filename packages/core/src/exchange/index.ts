export { decideExchange, type ExchangeDecision, type ExchangeRequest } from './decide.js';
export { ExchangeRefusal, type ExchangeErrorCode } from './refusal.js';
export { TokenType } from './token-types.js';
export { MAX_ACTOR_DEPTH } from './actor-chain.js';
export type { ExchangeContext } from './context.js';
