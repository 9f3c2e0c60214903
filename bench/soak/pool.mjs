// What the load has published of one kind of package, so that reads ask only for versions
// that exist and listings can be checked against what was published and deleted.
//
// An entry is `live` once its upload has answered. A read borrows a live entry, and an entry
// on loan is never picked for deletion, so a read never races a delete of what it reads. A
// listing read snapshots the pool before its request: every entry live then and not being
// deleted when the answer arrives must be listed, and no entry deleted before the request
// may be (stale metadata).

const pick = (list) => list[Math.floor(Math.random() * list.length)];

export class Pool {
  #seq = 0;
  #entries = [];
  #gone = [];

  /** `names`: the package names this kind spreads its versions over. */
  constructor(kind, names) {
    this.kind = kind;
    this.names = names;
  }

  /** A version number never used before in this run. */
  next() {
    return ++this.#seq;
  }

  pickName() {
    return pick(this.names);
  }

  get liveCount() {
    return this.#entries.filter((e) => e.state === 'live').length;
  }

  /** Versions of `name` live now (for a document listing them all, such as maven-metadata.xml). */
  liveVersions(name) {
    return this.#entries.filter((e) => e.state === 'live' && e.name === name).map((e) => e.version);
  }

  add(entry) {
    this.#entries.push({ ...entry, state: 'live', readers: 0 });
  }

  /** A random live entry, lent until `give back`; undefined when there is none. */
  borrow() {
    const e = pick(this.#entries.filter((x) => x.state === 'live'));
    if (e) e.readers++;
    return e;
  }

  giveBack(entry) {
    entry.readers--;
  }

  /** The oldest live entry no read holds, now marked as being deleted; undefined when none. */
  takeForDelete() {
    const e = this.#entries.find((x) => x.state === 'live' && x.readers === 0);
    if (e) e.state = 'deleting';
    return e;
  }

  /** The entry's delete answered: it must vanish from every listing from now on. */
  gone(entry) {
    entry.state = 'gone';
    entry.goneAt = performance.now();
    this.#entries.splice(this.#entries.indexOf(entry), 1);
    this.#gone.push(entry);
    if (this.#gone.length > 200) this.#gone.shift();
  }

  /** The entry's delete failed: its state is unknown, so it leaves the pool and every check. */
  forget(entry) {
    entry.state = 'unknown';
    this.#entries.splice(this.#entries.indexOf(entry), 1);
  }

  /** Taken just before a listing request for `name`. */
  snapshot(name) {
    const t0 = performance.now();
    return {
      listed: this.#entries.filter((e) => e.state === 'live' && e.name === name),
      unlisted: this.#gone.filter((e) => e.name === name && e.goneAt < t0),
    };
  }

  /**
   * What is wrong with a listing answered after `snap`: `has(entry)` says whether the
   * document lists it. Empty when nothing is.
   */
  check(snap, has) {
    const missing = snap.listed.filter((e) => e.state === 'live' && !has(e)).map((e) => e.version);
    const stale = snap.unlisted.filter((e) => has(e)).map((e) => e.version);
    const problems = [missing.length ? `missing ${missing.join(', ')}` : '', stale.length ? `still lists deleted ${stale.join(', ')}` : ''];
    return problems.filter(Boolean).join('; ');
  }
}
