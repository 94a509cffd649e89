// client-node's informer stops for good on any watch error other than 410
// Gone. This wrapper replaces a failed informer with a fresh one (jittered
// backoff), and also does so on a timer, so a silently dead watch cannot hide
// changes for long. The old cache keeps serving reads until the new one has
// listed; objects that vanished in between are reported as deletes.
// Every object is passed through `transform` before it is cached (by default
// metadata.managedFields and kubectl's last-applied annotation are dropped).
// Lists come in pages, as client-go's reflector reads them, each transformed
// before the next is asked for: a list of 2,000 Deployments at once is a
// body, a parse and typed copies of every pod template alive together, and
// V8 keeps the heap it grew for them long after.
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject, type Informer, type ObjectCache } from '@kubernetes/client-node';
import type { Logger } from 'pino';

export type ChangeVerb = 'add' | 'update' | 'delete';

/** Objects per list page: client-go's pager default. */
export const LIST_PAGE_SIZE = 500;

/** Which page of a list to read: at most `limit` objects, from where `_continue` (the last page's token) left off. */
export interface ListPage {
  limit: number;
  _continue?: string;
}

export interface InformerOptions<T extends KubernetesObject> {
  kubeConfig: KubeConfig;
  /** Watch path, e.g. /apis/networking.istio.io/v1/virtualservices. */
  path: string;
  /** Reads one page of the list (client-node's list calls take `limit` and `_continue` as they are). */
  list: (page: ListPage) => Promise<KubernetesListObject<T>>;
  /** A short name for logs and metrics, e.g. "virtualservices". */
  name: string;
  log: Logger;
  onChange: (obj: T, verb: ChangeVerb) => void;
  onRestart?: (name: string) => void;
  relistEveryMs?: number;
  maxBackoffMs?: number;
  /** Applied to each listed and watched object before it is cached; default withoutManagedFields. */
  transform?: ((obj: T) => T) | undefined;
}

/** kubectl apply's copy of the whole object as last applied, kept in an annotation. */
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * The object without metadata.managedFields and kubectl's last-applied
 * annotation: the operator reads neither, and together they are often the
 * larger part of an object. (The status subresource takes no metadata, so a
 * status written from a cached object leaves both as they are.)
 * The metadata and annotations are rebuilt, not deleted from: `delete` turns
 * a V8 object into a dictionary, which takes about twice the memory, and a
 * cache holds one per object for as long as the object lives.
 */
export function withoutManagedFields<T extends KubernetesObject>(obj: T): T {
  const md = obj.metadata;
  if (!md || (!md.managedFields && !(md.annotations && LAST_APPLIED in md.annotations))) return obj;
  const { managedFields: _managed, annotations, ...rest } = md;
  const kept = annotations ? Object.entries(annotations).filter(([k]) => k !== LAST_APPLIED) : [];
  obj.metadata = kept.length > 0 ? { ...rest, annotations: Object.fromEntries(kept) } : rest;
  return obj;
}

/** client-node's Watch, with each watched object transformed before the informer sees it. */
class TransformingWatch<T extends KubernetesObject> extends Watch {
  constructor(config: KubeConfig, private readonly transform: (obj: T) => T) {
    super(config);
  }

  override watch(...[path, query, callback, done]: Parameters<Watch['watch']>): Promise<AbortController> {
    return super.watch(path, query, (phase, obj: unknown, raw) => {
      const isObject = phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED';
      callback(phase, isObject && obj && typeof obj === 'object' ? this.transform(obj as T) : obj, raw);
    }, done);
  }
}

type Inner<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

export class ResilientInformer<T extends KubernetesObject> implements ObjectCache<T> {
  private current: Inner<T> | undefined;
  private stopped = false;
  private failures = 0;
  private replacing = false;
  private relistTimer: NodeJS.Timeout | undefined;
  /**
   * Each namespace's list ('' for all), kept until something in it changes: every reconcile reads its
   * namespace's releases and Deployments, and the same array while nothing changed lets a reader keep what
   * it derives from it (an index in a WeakMap keyed by the list).
   */
  private readonly lists = new Map<string, ReadonlyArray<T>>();
  synced = false;

  constructor(private readonly opts: InformerOptions<T>) {}

  get(name: string, namespace?: string): T | undefined {
    return this.current?.get(name, namespace);
  }

  list(namespace?: string): ReadonlyArray<T> {
    const key = namespace ?? '';
    const kept = this.lists.get(key);
    if (kept) return kept;
    if (!this.current) return [];
    const fresh = Object.freeze(this.current.list(namespace));
    this.lists.set(key, fresh);
    return fresh;
  }

  /** Something in `namespace` changed in the cache: its list, and the list of all, are read anew. */
  private changed(o: T): void {
    this.lists.delete(o.metadata?.namespace ?? '');
    this.lists.delete('');
  }

  /** Resolves once the first list succeeded (retrying with backoff until then). */
  async start(): Promise<void> {
    await this.replace('start');
    this.synced = true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.relistTimer);
    await this.current?.stop();
  }

  /** Builds a fresh informer, waits for its first list, then swaps it in. */
  private async replace(why: string): Promise<void> {
    if (this.replacing || this.stopped) return;
    this.replacing = true;
    clearTimeout(this.relistTimer);
    try {
      for (;;) {
        const next = await this.startOne(this.current);
        if (next) {
          const old = this.current;
          this.current = next;
          this.lists.clear();
          this.failures = 0;
          if (old) {
            await old.stop();
            this.reportVanished(old, next);
          }
          break;
        }
        if (this.stopped) return;
        await sleep(this.backoff());
      }
    } finally {
      this.replacing = false;
    }
    if (why !== 'start') this.opts.log.info({ informer: this.opts.name, why }, 'informer restarted');
    this.scheduleRelist();
  }

  /**
   * One informer instance; undefined when its first list failed. After a
   * relist only what changed since `previous` is told (a relist of 1,000
   * unchanged releases must not reconcile 1,000 releases).
   */
  private async startOne(previous?: Inner<T>): Promise<Inner<T> | undefined> {
    const transform = this.opts.transform ?? withoutManagedFields;
    const list = () => listAllPages(this.opts.list, transform);
    // What makeInformer builds, with the transform on both the list and the watch.
    const inf = new ListWatch<T>(this.opts.path, new TransformingWatch(this.opts.kubeConfig, transform), list, false);
    let live = false;
    let listFailed: unknown;
    // First, so that the lists are new before anyone told of the change reads them.
    for (const verb of ['add', 'update', 'delete'] as const) inf.on(verb, (o) => this.changed(o));
    inf.on('add', (o) => live && this.opts.onChange(o, 'add'));
    inf.on('update', (o) => live && this.opts.onChange(o, 'update'));
    inf.on('delete', (o) => live && this.opts.onChange(o, 'delete'));
    inf.on('error', (err) => {
      if (!live) listFailed = err ?? new Error('list failed');
      else if (this.current === inf) this.failed(err);
    });
    await inf.start();
    if (listFailed !== undefined) {
      this.opts.log.warn({ informer: this.opts.name, err: errText(listFailed) }, 'list failed; retrying');
      await inf.stop();
      return undefined;
    }
    live = true;
    for (const o of inf.list()) {
      const before = previous?.get(o.metadata?.name ?? '', o.metadata?.namespace);
      if (before === undefined) this.opts.onChange(o, 'add');
      else if (before.metadata?.resourceVersion !== o.metadata?.resourceVersion) this.opts.onChange(o, 'update');
    }
    return inf;
  }

  private failed(err: unknown): void {
    if (this.stopped) return;
    const delay = this.backoff();
    this.opts.log.warn({ informer: this.opts.name, err: errText(err), retryInMs: delay }, 'watch failed; restarting');
    this.opts.onRestart?.(this.opts.name);
    setTimeout(() => void this.replace('watch error'), delay);
  }

  private reportVanished(old: Inner<T>, next: Inner<T>): void {
    for (const o of old.list()) {
      if (!next.get(o.metadata?.name ?? '', o.metadata?.namespace)) this.opts.onChange(o, 'delete');
    }
  }

  private scheduleRelist(): void {
    const every = this.opts.relistEveryMs ?? 10 * 60_000;
    this.relistTimer = setTimeout(() => void this.replace('periodic relist'), every * (0.9 + Math.random() * 0.2));
    this.relistTimer.unref();
  }

  private backoff(): number {
    this.failures++;
    const max = this.opts.maxBackoffMs ?? 30_000;
    return Math.round(Math.min(max, 250 * 2 ** Math.min(this.failures, 10)) * (0.5 + Math.random() * 0.5));
  }
}

/**
 * Every page of a list, each page's objects transformed as it arrives; the
 * result carries the last page's metadata without its token. The pages are
 * one snapshot (the API server serves a continued list at the first page's
 * resourceVersion), so the watch starts from where the list ends; an expired
 * token fails the list, which the informer retries from the first page.
 */
export async function listAllPages<T extends KubernetesObject>(
  list: (page: ListPage) => Promise<KubernetesListObject<T>>,
  transform: (obj: T) => T,
): Promise<KubernetesListObject<T>> {
  const items: T[] = [];
  const seen = new Set<string>();
  for (let token: string | undefined; ;) {
    const page = await list(token === undefined ? { limit: LIST_PAGE_SIZE } : { limit: LIST_PAGE_SIZE, _continue: token });
    for (const o of page.items) items.push(transform(o));
    token = continueToken(page);
    if (!token) {
      const { _continue: _typed, continue: _raw, ...metadata } = (page.metadata ?? {}) as Record<string, unknown>;
      return { ...page, metadata, items };
    }
    // A server handing out a token again would loop forever.
    if (seen.has(token)) throw new Error(`list returned continue token ${JSON.stringify(token)} twice`);
    seen.add(token);
  }
}

/** The next page's token: client-node's typed lists name it `_continue`, custom object lists (plain JSON) `continue`. */
function continueToken(page: KubernetesListObject<KubernetesObject>): string | undefined {
  const md = page.metadata as { _continue?: unknown; continue?: unknown } | undefined;
  const token = md?._continue ?? md?.continue;
  return typeof token === 'string' && token !== '' ? token : undefined;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
