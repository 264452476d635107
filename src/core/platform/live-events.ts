// Live events for open browsers (GET /api/events): "something you may see changed", published after the
// change commits, by whichever process made it. Two transports with one behaviour: in-process (embedded
// mode, one process) and Redis pub/sub (scaled mode: workers publish, every server hears). Events carry ids
// only, never mail content; who may receive which event is decided where they are sent (server/routes/events.ts).
// Delivery is best effort: a browser that missed one reloads what it shows on reconnect.
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';

export type LiveEvent =
  /** A message was stored or (re)filed: the accounts whose mailboxes hold it and the clients it is filed to. */
  | { type: 'message'; id: string; accountIds: string[]; clientIds: string[] }
  /** A notification for one user (the bell). */
  | { type: 'notification'; userId: string; id: string }
  /** An account's sync progressed or changed status. */
  | { type: 'sync'; accountId: string; progress: { done: number; total: number } | null; status: string | null };

export interface LiveEvents {
  publish(event: LiveEvent): void;
  /** Returns the unsubscribe function. */
  subscribe(listener: (event: LiveEvent) => void): () => void;
  close(): Promise<void>;
}

/** Embedded mode: everything runs in this process. */
export function createLocalEvents(): LiveEvents {
  const emitter = new EventEmitter();
  // One listener per open browser tab: many are expected, none leak (each unsubscribes on close).
  emitter.setMaxListeners(0);
  return {
    publish: (event) => void queueMicrotask(() => emitter.emit('event', event)),
    subscribe: (listener) => {
      emitter.on('event', listener);
      return () => emitter.off('event', listener);
    },
    close: async () => void emitter.removeAllListeners(),
  };
}

const isLiveEvent = (v: unknown): v is LiveEvent =>
  typeof v === 'object' && v !== null && ['message', 'notification', 'sync'].includes((v as { type?: unknown }).type as string);

/**
 * Scaled mode: one channel per installation (the queue prefix). A subscribing connection cannot issue other
 * commands, so publishing and subscribing use separate connections, each opened on first use.
 */
export function createRedisEvents(redisUrl: string, prefix: string, onError: (err: unknown) => void = () => undefined): LiveEvents {
  const channel = `${prefix}:live-events`;
  const local = new EventEmitter();
  local.setMaxListeners(0);
  let pub: Redis | null = null;
  let sub: Redis | null = null;
  const subscriber = () => {
    if (sub) return;
    sub = new Redis(redisUrl, { maxRetriesPerRequest: null });
    sub.on('error', onError);
    sub.on('message', (_channel: string, text: string) => {
      try {
        const event: unknown = JSON.parse(text);
        if (isLiveEvent(event)) local.emit('event', event);
      } catch (err) {
        onError(err);
      }
    });
    sub.subscribe(channel).catch(onError);
  };
  return {
    publish: (event) => {
      pub ??= new Redis(redisUrl, { maxRetriesPerRequest: 3 });
      pub.publish(channel, JSON.stringify(event)).catch(onError);
    },
    subscribe: (listener) => {
      subscriber();
      local.on('event', listener);
      return () => local.off('event', listener);
    },
    close: async () => {
      local.removeAllListeners();
      pub?.disconnect();
      sub?.disconnect();
    },
  };
}
