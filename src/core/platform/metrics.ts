// Prometheus metrics (the only prom-client import): what workers count (messages synced, sync errors, job
// durations), kept in a store every process of an installation shares, and the scrape that renders those
// together with this process's HTTP latency and the state read at scrape time (lag, missing mail, queue).
// Recording never throws: a metrics hiccup must not fail a sync or a request.
//
// Why worker counters are aggregated in a shared store (Redis in scaled mode) rather than per process:
// Prometheus users expect one scrape target per service and counters that only go up. Workers are
// short-lived, scaled up and down and run no HTTP server, so per-process counters would be lost on every
// restart and need a port per worker; summed with HINCRBY in Redis they are installation-wide totals that
// survive worker restarts (a Redis flush is an ordinary counter reset, which rate() handles), served by
// the API's GET /metrics. State that already lives in the database (lag per account, missing mail) and
// in the queue (depths) is read at scrape time instead of counted, so it is right even after a restart.
// HTTP latency is per server process (the requests happen there): scrape each server instance.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Redis } from 'ioredis';

export type Labels = Record<string, string>;

/** Where counted values accumulate: a hash of "name{labels}" -> number, summed across processes. */
export interface MetricsStore {
  add(entries: readonly { key: string; by: number }[]): Promise<void>;
  read(): Promise<Map<string, number>>;
}

export function createMemoryMetricsStore(): MetricsStore {
  const values = new Map<string, number>();
  return {
    async add(entries) {
      for (const e of entries) values.set(e.key, (values.get(e.key) ?? 0) + e.by);
    },
    async read() {
      return new Map(values);
    },
  };
}

export function createRedisMetricsStore(redis: Redis, prefix: string): MetricsStore {
  const hash = `${prefix}:metrics`;
  return {
    async add(entries) {
      const multi = redis.multi();
      for (const e of entries) {
        if (Number.isInteger(e.by)) multi.hincrby(hash, e.key, e.by);
        else multi.hincrbyfloat(hash, e.key, e.by);
      }
      await multi.exec();
    },
    async read() {
      const raw = await redis.hgetall(hash);
      return new Map(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
    },
  };
}

const key = (name: string, labels: Labels = {}) => `${name}${JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]))}`;
const parseKey = (k: string): { name: string; labels: Labels } => {
  const i = k.indexOf('[');
  return { name: k.slice(0, i), labels: Object.fromEntries(JSON.parse(k.slice(i)) as [string, string][]) };
};

/** Job durations in seconds: a sync of a large mailbox can take many minutes. */
export const JOB_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800];
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** auth / network / protocol as the IMAP layer classifies them; needs_reauth when a provider refused to renew a grant. */
export type SyncErrorKind = 'auth' | 'network' | 'protocol' | 'needs_reauth';

/** What workers count. One per process, over the shared store. */
export type MetricsRecorder = {
  messagesSynced(count: number): void;
  syncError(kind: SyncErrorKind): void;
  jobFinished(job: string, outcome: 'ok' | 'error', seconds: number): void;
};

export function createMetricsRecorder(store: MetricsStore, onError: (err: unknown) => void = () => undefined): MetricsRecorder {
  const add = (entries: { key: string; by: number }[]) => {
    store.add(entries).catch(onError);
  };
  return {
    messagesSynced(count) {
      if (count > 0) add([{ key: key('dossier_messages_synced_total'), by: count }]);
    },
    syncError(kind) {
      add([{ key: key('dossier_sync_errors_total', { kind }), by: 1 }]);
    },
    jobFinished(job, outcome, seconds) {
      const labels = { job, outcome };
      // Cumulative buckets as Prometheus exposes them: one increment per bucket the value fits in.
      const entries = JOB_DURATION_BUCKETS.filter((le) => seconds <= le).map((le) => ({ key: key('dossier_job_duration_seconds_bucket', { ...labels, le: String(le) }), by: 1 }));
      entries.push({ key: key('dossier_job_duration_seconds_bucket', { ...labels, le: '+Inf' }), by: 1 });
      entries.push({ key: key('dossier_job_duration_seconds_count', labels), by: 1 });
      // Milliseconds as an integer: HINCRBY is exact where HINCRBYFLOAT accumulates rounding.
      entries.push({ key: key('dossier_job_duration_seconds_sum_ms', labels), by: Math.round(seconds * 1000) });
      add(entries);
    },
  };
}

/** What the scrape reads from the database and the queue (the server route gathers it). */
export type ScrapeState = {
  accounts: { id: string; status: string; lagSeconds: number; missing: number }[];
  queue: Record<string, number>;
};

export type AccountStatusName = 'syncing' | 'idle' | 'error' | 'needs_reauth';
const STATUSES: AccountStatusName[] = ['syncing', 'idle', 'error', 'needs_reauth'];

/** A histogram whose buckets were summed elsewhere (the store): rendered as-is, never observed here. */
class StoredHistogram extends Histogram<string> {
  rows: { labels: Labels; buckets: Map<string, number>; count: number; sum: number }[] = [];
  // An unregistered twin that is never observed: its get() gives name, help, type and aggregator with no
  // values (calling super.get() here would come back through the overridden getForPromString).
  private readonly blank: Histogram<string>;
  constructor(config: ConstructorParameters<typeof Histogram<string>>[0]) {
    super(config);
    this.blank = new Histogram({ ...config, registers: [] });
  }
  override async get() {
    const base = await this.blank.get();
    const values: typeof base.values = [];
    for (const r of this.rows) {
      for (const le of [...JOB_DURATION_BUCKETS.map(String), '+Inf']) values.push({ metricName: `${base.name}_bucket`, labels: { ...r.labels, le }, value: r.buckets.get(le) ?? 0 });
      values.push({ metricName: `${base.name}_sum`, labels: r.labels, value: r.sum });
      values.push({ metricName: `${base.name}_count`, labels: r.labels, value: r.count });
    }
    return { ...base, values };
  }
  /** What the registry renders the text format from (prom-client prefers it to get() when present). */
  async getForPromString() {
    return this.get();
  }
}

export type MetricsEndpoint = {
  contentType: string;
  /** HTTP latency of this server process (a fastify hook calls it for every response). */
  observeHttp(route: string, method: string, status: number, seconds: number): void;
  render(state: ScrapeState): Promise<string>;
};

export function createMetricsEndpoint(store: MetricsStore): MetricsEndpoint {
  const registry = new Registry();
  let snapshot = new Map<string, number>();
  let state: ScrapeState = { accounts: [], queue: {} };
  const entries = (name: string) => [...snapshot].map(([k, v]) => ({ ...parseKey(k), value: v })).filter((e) => e.name === name);

  new Counter({
    name: 'dossier_messages_synced_total', help: 'Messages stored by the sync (new locations), summed over every worker', registers: [registry],
    collect() {
      this.reset();
      for (const e of entries('dossier_messages_synced_total')) this.inc(e.value);
    },
  });
  new Counter({
    name: 'dossier_sync_errors_total', help: 'Sync failures (a run, a folder, a dropped connection) by kind: auth, network, protocol, needs_reauth', labelNames: ['kind'], registers: [registry],
    collect() {
      this.reset();
      for (const e of entries('dossier_sync_errors_total')) this.inc(e.labels, e.value);
    },
  });
  const jobs = new StoredHistogram({ name: 'dossier_job_duration_seconds', help: 'Background job run time by job name and outcome, over every worker', labelNames: ['job', 'outcome'], buckets: JOB_DURATION_BUCKETS, registers: [registry] });
  new Gauge({
    name: 'dossier_sync_lag_seconds', help: 'Seconds since the account last finished a sync (since it was added, when it never did)', labelNames: ['account_id'], registers: [registry],
    collect() {
      this.reset();
      for (const a of state.accounts) this.set({ account_id: a.id }, a.lagSeconds);
    },
  });
  new Gauge({
    name: 'dossier_sync_missing_messages', help: 'Messages on the server not stored by Dossier, per account (from the last sync and reconciliation)', labelNames: ['account_id'], registers: [registry],
    collect() {
      this.reset();
      for (const a of state.accounts) this.set({ account_id: a.id }, a.missing);
    },
  });
  new Gauge({
    name: 'dossier_account_status', help: '1 for the status each account is in', labelNames: ['account_id', 'status'], registers: [registry],
    collect() {
      this.reset();
      for (const a of state.accounts) for (const s of STATUSES) this.set({ account_id: a.id, status: s }, a.status === s ? 1 : 0);
    },
  });
  new Gauge({
    name: 'dossier_queue_jobs', help: 'Jobs in the queue by state (BullMQ in scaled mode, the in-process queue in embedded mode)', labelNames: ['state'], registers: [registry],
    collect() {
      this.reset();
      for (const [s, n] of Object.entries(state.queue)) this.set({ state: s }, n);
    },
  });
  const http = new Histogram({
    name: 'dossier_http_request_duration_seconds', help: 'HTTP request latency of this server process by route pattern, method and status',
    labelNames: ['route', 'method', 'status'], buckets: HTTP_BUCKETS, registers: [registry],
  });

  return {
    contentType: registry.contentType,
    observeHttp(route, method, status, seconds) {
      http.observe({ route, method, status: String(status) }, seconds);
    },
    async render(s) {
      state = s;
      snapshot = await store.read();
      const rows = new Map<string, StoredHistogram['rows'][number]>();
      const row = (labels: Labels) => {
        const id = key('', { job: labels.job ?? '', outcome: labels.outcome ?? '' });
        let r = rows.get(id);
        if (!r) rows.set(id, (r = { labels: { job: labels.job ?? '', outcome: labels.outcome ?? '' }, buckets: new Map(), count: 0, sum: 0 }));
        return r;
      };
      for (const e of entries('dossier_job_duration_seconds_bucket')) row(e.labels).buckets.set(e.labels.le ?? '+Inf', e.value);
      for (const e of entries('dossier_job_duration_seconds_count')) row(e.labels).count = e.value;
      for (const e of entries('dossier_job_duration_seconds_sum_ms')) row(e.labels).sum = e.value / 1000;
      jobs.rows = [...rows.values()];
      return registry.metrics();
    },
  };
}
