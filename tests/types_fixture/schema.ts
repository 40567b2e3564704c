/* A hand-written MCP-like schema for tests/test_types.py: a few messages in the spec's form,
 * with the number/integer disagreements the generator must find (schema.json is what
 * typescript-json-schema --defaultNumberType integer makes of this file). Not a spec copy. */

export type RequestId = string | number;

export type ProgressToken = string | number;

export const URL_ELICITATION_REQUIRED = -32042;

export interface RequestParams {
  _meta?: {
    progressToken?: ProgressToken;
    [key: string]: unknown;
  };
}

export interface Error {
  code: number;
  message: string;
  data?: unknown;
}

export interface UrlRequiredError {
  error: Error & {
    code: typeof URL_ELICITATION_REQUIRED;
  };
}

/** @category `ping` */
export interface PingRequest {
  jsonrpc: "2.0";
  id: RequestId;
  method: "ping";
  params?: RequestParams;
}

export interface CallToolRequestParams extends RequestParams {
  name: string;
  /** Seconds, whole or not. */
  timeout?: number;
}

/** @category `tools/call` */
export interface CallToolRequest {
  jsonrpc: "2.0";
  id: RequestId;
  method: "tools/call";
  params: CallToolRequestParams;
}

/** @category `tools/call` */
export interface CallToolResult {
  _meta?: { [key: string]: unknown };
  isError?: boolean;
  /**
   * @TJS-type number
   */
  score?: number;
  sizes?: number[];
}

export interface ElicitRequestParams extends RequestParams {
  message: string;
  requestedSchema: { type: "object"; properties: { [key: string]: object } };
}

/** @category `elicitation/create` */
export interface ElicitRequest {
  jsonrpc: "2.0";
  id: RequestId;
  method: "elicitation/create";
  params: ElicitRequestParams;
}

/** @category `elicitation/create` */
export interface ElicitResult {
  _meta?: { [key: string]: unknown };
  action: "accept" | "decline" | "cancel";
  content?: { [key: string]: string | number | boolean | string[] };
}

export interface StringSchema {
  type: "string";
  minLength?: number;
}

export interface ProgressNotificationParams {
  progressToken: ProgressToken;
  /**
   * @TJS-type number
   */
  progress: number;
  total?:
    | number
    | null;
}

/** @category `notifications/progress` */
export interface ProgressNotification {
  jsonrpc: "2.0";
  method: "notifications/progress";
  params: ProgressNotificationParams;
}

export type ClientRequest = PingRequest | CallToolRequest;
export type ServerRequest = PingRequest | ElicitRequest;
export type ClientNotification = ProgressNotification;
export type ServerNotification = ProgressNotification;
