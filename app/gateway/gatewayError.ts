/** Why `quiver gateway` could not start. */
import { QuiverError } from '../contract/quiverError.ts';

export type GatewayErrorCode = 'gateway-listen-failed';

export class GatewayError extends QuiverError<GatewayErrorCode> {}
