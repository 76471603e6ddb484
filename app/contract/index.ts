export * from './api.ts';
export * from './quiverError.ts';
export * from './commands.ts';
export * from './events.ts';
export * from './viewModels.ts';
export * as validate from './validate.ts';
export { createMemoryTransport } from './memoryTransport.ts';
export * from './wire.ts';
