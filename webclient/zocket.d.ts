// Types for zocket.js, the browser client for zocket servers.

/** The connection's status; listeners are told only about changes. */
export type ConnectionStatus = "connecting" | "connected" | "reconnecting" | "disconnected";

export interface ClientOptions {
  /** WebSocket URL of the server, used for every reconnect. */
  url: string;
  /** Total budget of one call in ms, including any wait for a socket. 0: none. Default 10000. */
  rpcTimeout?: number;
  /** Rejects `ready` if the first connection is not open in time. 0: never. Default 10000. */
  connectTimeout?: number;
  /** Reconnect after a close the page did not ask for. Default true. */
  reconnect?: boolean;
  /** A fixed reconnect delay in ms instead of the backoff (250 ms doubling to 2 s, plus jitter). */
  reconnectDelayMs?: number;
}

/** Options of one method call: the second argument after the input. */
export interface CallOptions {
  /** Receives each partial result a streaming method sends before its result. */
  onChunk?: (chunk: unknown) => void;
}

export type Unsubscribe = () => void;

/** The handle's fixed members; every other property is a method of the actor. */
export interface ActorHandleBase<State = unknown> {
  /** Listens to one event; the first listener subscribes the connection to events. */
  on(event: string, listener: (payload: any) => void): Unsubscribe;
  state: {
    /**
     * The first listener subscribes to state (with a Go server, resuming from the
     * version of the state the handle has); a known state is delivered at once.
     */
    subscribe(listener: (state: State) => void): Unsubscribe;
    /** The latest state, undefined before the first snapshot. */
    getSnapshot(): State | undefined;
  };
  meta: { readonly name: string; readonly id: string; dispose(): void };
  readonly $actorName: string;
  readonly $actorId: string;
  /** Same as meta.dispose. */
  $dispose(): void;
}

/** A method call resolves with the result or rejects with the server's error text. */
export type ActorMethod = (input?: unknown, options?: CallOptions) => Promise<any>;

export type ActorHandle<State = unknown> = ActorHandleBase<State> & { [method: string]: ActorMethod };

export interface Connection {
  /** Resolves when the first socket opens. */
  readonly ready: Promise<void>;
  readonly status: ConnectionStatus;
  subscribe(listener: (status: ConnectionStatus) => void): Unsubscribe;
  close(): void;
}

export interface ClientBase {
  readonly connection: Connection;
  /** The id the server gave this connection, null until its welcome. */
  readonly clientId: string | null;
  readonly $ready: Promise<void>;
  readonly $status: ConnectionStatus;
  $close(): void;
  on(event: "status", listener: (status: ConnectionStatus) => void): Unsubscribe;
}

/** client.<actor>(id) returns a handle on that actor instance. */
export type Client = ClientBase & { [actor: string]: (id: string) => ActorHandle };

export function createClient(options: ClientOptions): Client;

/** Thrown by applyPatch for an operation that cannot apply. */
export class PatchError extends Error {}

/** Returns doc with one state:patch message's operations applied; doc is not changed. */
export function applyPatch<T = unknown>(doc: T, ops: ReadonlyArray<{ op: string; path: string; value?: unknown }>): T;

/** Splits a JSON Pointer into unescaped segments; "" and "/" are the root. */
export function splitPointer(path: string): string[];
