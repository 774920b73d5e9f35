// Types for herald.js, Herald's JavaScript client.

/** The op-7 token: goim's fields, or `{ token: "<jwt>" }` for a server in jwt auth mode. */
export interface HeraldToken {
  mid?: number;
  key?: string;
  room_id?: string;
  platform?: string;
  accepts?: number[];
  token?: string;
}

export type HeraldStream = "room" | "user" | "broadcast";

export interface HeraldMessage {
  /** The push's operation, as given to the push API. */
  op: number;
  /** The body as UTF-8 text. */
  body: string;
  /** The body's bytes. */
  bytes: Uint8Array;
  /** The history stream the message is kept in; undefined for a push history does not keep. */
  stream?: HeraldStream;
  /** The message's offset in its stream (0 without one). */
  offset: number;
}

export type HeraldStateName = "idle" | "connecting" | "connected" | "waiting" | "stopped";

export interface HeraldState {
  state: HeraldStateName;
  transport: "websocket" | "longpoll";
  /** connecting, connected: the URL. */
  endpoint?: string;
  /** connecting: failed attempts since the last accepted connection. */
  attempt?: number;
  /** connected: the server's answer to the recovery request (undefined for goim's empty reply). */
  recovered?: boolean;
  /** waiting: the delay before the next attempt. */
  retryInMs?: number;
  /** stopped: "closed" or "auth_refused". */
  reason?: string;
}

export interface HeraldBackoff {
  /** The first wait before jitter (500). */
  initialMs?: number;
  /** The cap (15000); no wait is longer. */
  maxMs?: number;
  /** Growth per failed attempt (2). */
  multiplier?: number;
  /** The share taken off at random (0.5: between half and all of the wait). */
  jitter?: number;
}

export interface HeraldClientOptions {
  /** WebSocket URLs (`ws://host:3102/sub`), tried in turn; a drain (op 6) moves to the next. */
  websocket?: string | string[];
  /** Long-poll bases (`http://host:3104/sub`), used when no WebSocket URL ever accepted the client. */
  longpoll?: string | string[];
  token: HeraldToken;
  onMessage?: (message: HeraldMessage) => void;
  onState?: (state: HeraldState) => void;
  /** Ask for what was missed after a reconnect (true). */
  recover?: boolean;
  /** Heartbeat interval (30000). No second heartbeat is sent while one is unanswered. */
  heartbeatMs?: number;
  /** A heartbeat unanswered this long ends the connection (10000). */
  heartbeatTimeoutMs?: number;
  /** How long a WebSocket may take to open (3000); one that does not counts as unreachable. */
  wsTimeoutMs?: number;
  /** How long the server may take to accept the token once the socket is open (10000). */
  authTimeoutMs?: number;
  /** A connection lost sooner than this after it was accepted keeps the backoff growing (10000). */
  stableAfterMs?: number;
  /** How long a call waits for the server's answer (10000). */
  requestTimeoutMs?: number;
  backoff?: HeraldBackoff;
  /**
   * A close after op 7 without op 8 is a refusal: the token was refused, or the server could not
   * reach its auth backend. Refusals are retried with the backoff on the next endpoint; after this
   * many in a row (5) the client stops with "auth_refused".
   */
  maxAuthRefusals?: number;
}

export type HeraldErrorCode = "auth_refused" | "not_connected" | "connection_lost" | "timed_out" | "closed";

export declare class HeraldError extends Error {
  code: HeraldErrorCode;
}

export declare function backoffDelay(backoff: HeraldBackoff, attempt: number, random?: number): number;

export declare class HeraldClient {
  constructor(options: HeraldClientOptions);
  readonly state: HeraldStateName;
  readonly stats: { attempts: number; accepted: number };
  /** Resolves once the server accepted a connection; rejects with HeraldError if the client stops first. */
  connect(): Promise<void>;
  /** Resolves with the room the server put the connection in. Kept across reconnects. */
  changeRoom(room: string): Promise<string>;
  /** Resolves with the operations granted. Kept across reconnects. */
  subscribe(ops: number[]): Promise<number[]>;
  unsubscribe(ops: number[]): Promise<void>;
  /** Resolves with the room's online count. */
  heartbeat(): Promise<number>;
  /** Ends the current connection as a lost network would; the client comes back by itself. */
  drop(): void;
  /** Stops the client for good. */
  close(): void;
}
