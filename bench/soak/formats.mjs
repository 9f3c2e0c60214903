// The soak's raw-HTTP operations for the eight formats: for each kind of package its upload
// (the requests its real client sends), its reads (metadata and downloads, checked against
// what was uploaded) and its delete. Names and URLs follow each format's README.
import { createHash, randomBytes } from 'node:crypto';

import { generatedBody, MiB } from '../lib/harness.mjs';
import {
  composerZip,
  conanFiles,
  digest,
  goModuleZip,
  mavenArtifact,
  multipart,
  npmPackage,
  nupkg,
  sha256,
  twineForm,
  wheel,
} from './fixtures.mjs';
import { Pool } from './pool.mjs';

const basic = (user, secret) => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
const range = (n, f) => Array.from({ length: n }, (_, i) => f(i));
const NAMES = 3;

/** The operations of every kind against project `project` (in group `group`), as the user whose PAT is `token`. */
export function formats({ http, project, group, token }) {
  const priv = { 'private-token': token };
  const projectApi = `/api/v4/projects/${project.id}`;

  /** GET that must answer `sha` as its bytes (hashed as they arrive, not kept). */
  async function download(op, path, headers, sha) {
    const r = await http.send(op, 'GET', path, { headers, keep: false });
    if (r.sha256 !== sha) http.wrong(op, 'GET', path, `bytes differ: got sha256 ${r.sha256} (${r.size} bytes), uploaded ${sha}`);
  }

  /**
   * A GET of a document listing the versions of `entry.name`, checked against the pool:
   * `parse(body)` reads it (JSON by default), `has(doc, entry)` says whether it lists an entry.
   */
  async function listing(op, pool, entry, path, { headers, has, parse = (b) => JSON.parse(b) }) {
    const snap = pool.snapshot(entry.name);
    const r = await http.send(op, 'GET', path, { headers });
    let doc;
    try {
      doc = parse(r.body.toString());
    } catch (err) {
      http.wrong(op, 'GET', path, `unreadable answer (${err.message}): ${r.body.toString().slice(0, 300)}`);
    }
    const problem = pool.check(snap, (e) => has(doc, e));
    if (problem) http.wrong(op, 'GET', path, `${entry.name}: ${problem}`);
    return doc;
  }

  /** Deletes one version through GitLab's Packages API: find its id, then DELETE. */
  async function apiDelete(op, type, name, version) {
    const q = new URLSearchParams({ package_type: type, package_name: name, package_version: version, per_page: '100' });
    const path = `${projectApi}/packages?${q}`;
    const list = JSON.parse((await http.send(op, 'GET', path, { headers: priv })).body);
    const pkg = list.find((p) => p.name === name && p.version === version);
    if (!pkg) http.wrong(op, 'GET', path, `${type} ${name} ${version} not listed: ${list.map((p) => `${p.name} ${p.version}`).join(', ')}`);
    await http.send(op, 'DELETE', `${projectApi}/packages/${pkg.id}`, { headers: priv, expect: [204] });
  }

  // ---- generic ----------------------------------------------------------------------------
  const generic = {
    pool: new Pool(
      'generic',
      range(NAMES, (i) => `soak-${i}`),
    ),
    async upload(op) {
      const n = this.pool.next();
      const name = this.pool.pickName();
      const path = `${projectApi}/packages/generic/${name}/1.0.${n}/file-${n}.bin`;
      // Now and then a large file, streamed, to keep the streaming path in the mix.
      if (n % 40 === 0) {
        const hash = createHash('sha256');
        const size = 8 * MiB;
        const headers = { ...priv, 'content-length': String(size) };
        await http.send(op, 'PUT', path, { headers, body: generatedBody(size, hash), expect: [201] });
        return { name, version: `1.0.${n}`, path, sha: hash.digest('hex') };
      }
      const bytes = randomBytes(1024 + Math.floor(Math.random() * 63 * 1024));
      await http.send(op, 'PUT', path, { headers: priv, body: bytes, expect: [201] });
      return { name, version: `1.0.${n}`, path, sha: sha256(bytes) };
    },
    reads: [
      { op: 'generic.download', weight: 3, run: (op, e) => download(op, e.path, priv, e.sha) },
      {
        op: 'api.list',
        weight: 1,
        async run(op) {
          const r = await http.send(op, 'GET', `${projectApi}/packages?per_page=50&order_by=created_at&sort=desc`, { headers: priv });
          if (!Array.isArray(JSON.parse(r.body))) http.wrong(op, 'GET', `${projectApi}/packages`, 'not a list');
        },
      },
    ],
    remove: (op, e) => apiDelete(op, 'generic', e.name, e.version),
  };

  // ---- npm --------------------------------------------------------------------------------
  const npmBase = `${projectApi}/packages/npm`;
  const npmAuth = { authorization: `Bearer ${token}` };
  const packument = (prefix, name) => `${prefix}/${name.replace('/', '%2f')}`;
  const CORGI = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*';
  const hasVersion = (doc, e) => Boolean(doc.versions?.[e.version]);
  const npm = {
    pool: new Pool(
      'npm',
      range(NAMES, (i) => `@${group.path}/lib-${i}`),
    ),
    async upload(op) {
      const name = this.pool.pickName();
      const version = `1.0.${this.pool.next()}`;
      const { bytes, body } = npmPackage(name, version);
      const headers = { ...npmAuth, 'content-type': 'application/json', 'npm-command': 'publish' };
      await http.send(op, 'PUT', packument(npmBase, name), { headers, body });
      return { name, version, sha: sha256(bytes) };
    },
    reads: [
      {
        op: 'npm.packument',
        weight: 2,
        run: (op, e) => listing(op, npm.pool, e, packument(npmBase, e.name), { headers: { ...npmAuth, accept: CORGI }, has: hasVersion }),
      },
      {
        op: 'npm.packument-group',
        weight: 1,
        run: (op, e) =>
          listing(op, npm.pool, e, packument(`/api/v4/groups/${group.id}/-/packages/npm`, e.name), {
            headers: { ...npmAuth, accept: 'application/json' },
            has: hasVersion,
          }),
      },
      { op: 'npm.tarball', weight: 2, run: (op, e) => download(op, `${npmBase}/${e.name}/-/${e.name}-${e.version}.tgz`, npmAuth, e.sha) },
    ],
    remove: (op, e) => apiDelete(op, 'npm', e.name, e.version),
  };

  // ---- PyPI -------------------------------------------------------------------------------
  const pypiBase = `${projectApi}/packages/pypi`;
  const pypiAuth = { authorization: basic('__token__', token) };
  const simpleJson = 'application/vnd.pypi.simple.v1+json';
  const hasFile = (doc, e) =>
    typeof doc === 'string' ? doc.includes(`/${e.fileName}#sha256=`) : Boolean(doc.files?.some((f) => f.filename === e.fileName));
  /** The project's or group's simple page of the entry's project, as JSON (PEP 691) or HTML, half and half. */
  const simple = (op, e, prefix) => {
    const json = Math.random() < 0.5;
    return listing(op, pypi.pool, e, `${prefix}/simple/${e.name}`, {
      headers: { ...pypiAuth, accept: json ? simpleJson : 'text/html' },
      has: hasFile,
      parse: json ? JSON.parse : (b) => b,
    });
  };
  const pypi = {
    pool: new Pool(
      'pypi',
      range(NAMES, (i) => `soak-lib-${i}`),
    ),
    async upload(op) {
      const name = this.pool.pickName();
      const version = `1.0.${this.pool.next()}`;
      const w = wheel(name, version);
      const { body, contentType } = twineForm(name, version, w);
      await http.send(op, 'POST', pypiBase, { headers: { ...pypiAuth, 'content-type': contentType }, body, expect: [201] });
      return { name, version, fileName: w.fileName, sha: sha256(w.bytes) };
    },
    reads: [
      { op: 'pypi.simple', weight: 2, run: (op, e) => simple(op, e, pypiBase) },
      { op: 'pypi.simple-group', weight: 1, run: (op, e) => simple(op, e, `/api/v4/groups/${group.id}/-/packages/pypi`) },
      { op: 'pypi.download', weight: 2, run: (op, e) => download(op, `${pypiBase}/files/${e.sha}/${e.fileName}`, pypiAuth, e.sha) },
    ],
    remove: (op, e) => apiDelete(op, 'pypi', e.name, e.version),
  };

  // ---- Maven ------------------------------------------------------------------------------
  const mavenBase = `${projectApi}/packages/maven`;
  const groupId = `com.${group.path}`;
  const mavenDir = (artifact, prefix = mavenBase) => `${prefix}/${groupId.replace(/\./g, '/')}/${artifact}`;
  const mavenMetadata = (op, e, prefix) =>
    listing(op, maven.pool, e, `${mavenDir(e.name, prefix)}/maven-metadata.xml`, {
      headers: priv,
      has: (xml, x) => xml.includes(`<version>${x.version}</version>`),
      parse: (b) => b,
    });
  const maven = {
    pool: new Pool(
      'maven',
      range(NAMES, (i) => `lib-${i}`),
    ),
    /** What `mvn deploy` PUTs: each file then its checksum, the artifact's metadata last. */
    async upload(op) {
      const artifact = this.pool.pickName();
      const version = `1.0.${this.pool.next()}`;
      const a = mavenArtifact(groupId, artifact, version, [...this.pool.liveVersions(artifact), version]);
      const dir = mavenDir(artifact);
      const put = async (path, bytes) => {
        await http.send(op, 'PUT', path, { headers: priv, body: bytes });
        await http.send(op, 'PUT', `${path}.sha1`, { headers: priv, body: digest('sha1', bytes), expect: [204] });
      };
      await put(`${dir}/${version}/${artifact}-${version}.jar`, a.jar);
      await put(`${dir}/${version}/${artifact}-${version}.pom`, a.pom);
      await put(`${dir}/maven-metadata.xml`, a.metadata);
      return { name: artifact, version, sha: sha256(a.jar), sha1: digest('sha1', a.jar) };
    },
    reads: [
      {
        op: 'maven.metadata',
        weight: 2,
        run: (op, e) => mavenMetadata(op, e),
      },
      { op: 'maven.metadata-group', weight: 1, run: (op, e) => mavenMetadata(op, e, `/api/v4/groups/${group.id}/-/packages/maven`) },
      {
        op: 'maven.reads',
        weight: 2,
        async run(op, e) {
          const jar = `${mavenDir(e.name)}/${e.version}/${e.name}-${e.version}.jar`;
          await download(op, jar, priv, e.sha);
          const sum = (await http.send(op, 'GET', `${jar}.sha1`, { headers: priv })).body.toString().trim();
          if (sum !== e.sha1) http.wrong(op, 'GET', `${jar}.sha1`, `${sum}, uploaded ${e.sha1}`);
        },
      },
    ],
    remove: (op, e) => apiDelete(op, 'maven', `${groupId.replace(/\./g, '/')}/${e.name}`, e.version),
  };

  // ---- NuGet ------------------------------------------------------------------------------
  const nugetBase = `${projectApi}/packages/nuget`;
  const nugetRead = { authorization: basic('soak', token) };
  const nugetKey = { 'x-nuget-apikey': token };
  const flat = (e) => `${nugetBase}/download/${e.name.toLowerCase()}`;
  /** The registration index (leaves inline below 128 versions) of the project's or the group's feed. */
  const registration = (op, e, prefix) =>
    listing(op, nuget.pool, e, `${prefix}/metadata/${e.name.toLowerCase()}/index.json`, {
      headers: nugetRead,
      has: (doc, x) => doc.items.some((page) => (page.items ?? []).some((leaf) => leaf.catalogEntry?.version === x.version)),
    });
  const nuget = {
    pool: new Pool(
      'nuget',
      range(NAMES, (i) => `Soak.Lib${i}`),
    ),
    async upload(op) {
      const id = this.pool.pickName();
      const version = `1.0.${this.pool.next()}`;
      const bytes = nupkg(id, version);
      const { body, contentType } = multipart([{ name: 'package', value: bytes, fileName: 'package.nupkg' }]);
      await http.send(op, 'PUT', `${nugetBase}/`, { headers: { ...nugetKey, 'content-type': contentType }, body, expect: [201] });
      return { name: id, version, sha: sha256(bytes) };
    },
    reads: [
      {
        op: 'nuget.registration',
        weight: 2,
        run: (op, e) => registration(op, e, nugetBase),
      },
      { op: 'nuget.registration-group', weight: 1, run: (op, e) => registration(op, e, `/api/v4/groups/${group.id}/-/packages/nuget`) },
      {
        op: 'nuget.flat-index',
        weight: 1,
        run: (op, e) =>
          listing(op, nuget.pool, e, `${flat(e)}/index.json`, { headers: nugetRead, has: (doc, x) => doc.versions.includes(x.version) }),
      },
      {
        op: 'nuget.download',
        weight: 2,
        run: (op, e) => download(op, `${flat(e)}/${e.version}/${e.name.toLowerCase()}.${e.version}.nupkg`, nugetRead, e.sha),
      },
    ],
    remove: (op, e) => http.send(op, 'DELETE', `${nugetBase}/${e.name}/${e.version}`, { headers: nugetKey, expect: [204] }),
  };

  // ---- Conan ------------------------------------------------------------------------------
  const conanBase = `${projectApi}/packages/conan`;
  const PKGID = 'cb054d0b3e1ca595dc66bc2339d40f1f8f04ab31';
  // Conan logs in once (users/authenticate) and sends the token it got as Bearer; log in again every minute.
  let conanLogin = { at: -Infinity, header: undefined };
  async function conanAuth(op) {
    if (performance.now() - conanLogin.at > 60_000) {
      const r = await http.send(op, 'GET', `${conanBase}/v1/users/authenticate`, { headers: { authorization: basic('soak', token) } });
      conanLogin = { at: performance.now(), header: { authorization: `Bearer ${r.body.toString()}` } };
    }
    return conanLogin.header;
  }
  const ref = (e) => `${e.name}/${e.version}/_/_`;
  const fileShas = (files) => Object.fromEntries(Object.entries(files).map(([f, b]) => [f, sha256(b)]));
  /** `conan search <name>*`: every live version of the name, none deleted. */
  const conanSearch = async (op, pool, e, api) =>
    listing(op, pool, e, `${conanBase}/${api}/conans/search?q=${encodeURIComponent(`${e.name}*`)}`, {
      headers: await conanAuth(op),
      has: (doc, x) => doc.results.some((r) => r.replace(/@_\/_$/, '') === `${x.name}/${x.version}`),
    });

  const conan1 = {
    pool: new Pool(
      'conan-v1',
      range(NAMES, (i) => `soak1-${i}`),
    ),
    /** conan 1 without revisions: upload_urls for the recipe, a PUT each, then the same for the binary. */
    async upload(op) {
      const e = { name: this.pool.pickName(), version: `1.0.${this.pool.next()}` };
      const auth = await conanAuth(op);
      const files = conanFiles(e.name, e.version);
      const putAll = async (urlsPath, group) => {
        const sizes = Object.fromEntries(Object.entries(group).map(([f, b]) => [f, b.length]));
        const headers = { ...auth, 'content-type': 'application/json' };
        const urls = JSON.parse((await http.send(op, 'POST', urlsPath, { headers, body: JSON.stringify(sizes) })).body);
        for (const [f, b] of Object.entries(group)) {
          if (!urls[f]) http.wrong(op, 'POST', urlsPath, `no upload URL for ${f}: ${JSON.stringify(urls)}`);
          const u = new URL(urls[f]);
          await http.send(op, 'PUT', u.pathname + u.search, { headers: auth, body: b });
        }
      };
      await putAll(`${conanBase}/v1/conans/${ref(e)}/upload_urls`, files.recipe);
      await putAll(`${conanBase}/v1/conans/${ref(e)}/packages/${PKGID}/upload_urls`, files.package);
      return { ...e, recipe: fileShas(files.recipe), package: fileShas(files.package) };
    },
    reads: [
      {
        op: 'conan-v1.install',
        weight: 2,
        /** What `conan install` fetches: download_urls of the recipe and the binary, then every file. */
        async run(op, e) {
          const auth = await conanAuth(op);
          for (const [path, shas] of [
            [`${conanBase}/v1/conans/${ref(e)}/download_urls`, e.recipe],
            [`${conanBase}/v1/conans/${ref(e)}/packages/${PKGID}/download_urls`, e.package],
          ]) {
            const urls = JSON.parse((await http.send(op, 'GET', path, { headers: auth })).body);
            for (const [f, sha] of Object.entries(shas)) {
              if (!urls[f]) http.wrong(op, 'GET', path, `no download URL for ${f}: ${JSON.stringify(urls)}`);
              const u = new URL(urls[f]);
              await download(op, u.pathname + u.search, auth, sha);
            }
          }
        },
      },
      {
        op: 'conan-v1.search',
        weight: 1,
        run: (op, e) => conanSearch(op, conan1.pool, e, 'v1'),
      },
    ],
    remove: async (op, e) => http.send(op, 'DELETE', `${conanBase}/v1/conans/${ref(e)}`, { headers: await conanAuth(op) }),
  };

  const hex32 = () => randomBytes(16).toString('hex');
  const conan2 = {
    pool: new Pool(
      'conan-v2',
      range(NAMES, (i) => `soak2-${i}`),
    ),
    /** conan 2: the recipe revision's files, then the binary's package revision files, one PUT each. */
    async upload(op) {
      const e = { name: this.pool.pickName(), version: `2.0.${this.pool.next()}`, rrev: hex32(), prev: hex32() };
      const auth = await conanAuth(op);
      const files = conanFiles(e.name, e.version);
      const rrevPath = `${conanBase}/v2/conans/${ref(e)}/revisions/${e.rrev}`;
      for (const [f, b] of Object.entries(files.recipe)) await http.send(op, 'PUT', `${rrevPath}/files/${f}`, { headers: auth, body: b });
      const prevPath = `${rrevPath}/packages/${PKGID}/revisions/${e.prev}`;
      for (const [f, b] of Object.entries(files.package)) await http.send(op, 'PUT', `${prevPath}/files/${f}`, { headers: auth, body: b });
      return { ...e, recipe: fileShas(files.recipe), package: fileShas(files.package) };
    },
    reads: [
      {
        op: 'conan-v2.install',
        weight: 2,
        /** What `conan install` fetches: the latest revisions, the file lists, every file. */
        async run(op, e) {
          const auth = await conanAuth(op);
          const recipe = `${conanBase}/v2/conans/${ref(e)}`;
          const latest = JSON.parse((await http.send(op, 'GET', `${recipe}/latest`, { headers: auth })).body);
          if (latest.revision !== e.rrev) http.wrong(op, 'GET', `${recipe}/latest`, `revision ${latest.revision}, uploaded ${e.rrev}`);
          const binary = `${recipe}/revisions/${e.rrev}/packages/${PKGID}`;
          const pkgLatest = JSON.parse((await http.send(op, 'GET', `${binary}/latest`, { headers: auth })).body);
          if (pkgLatest.revision !== e.prev) http.wrong(op, 'GET', `${binary}/latest`, `${pkgLatest.revision}, uploaded ${e.prev}`);
          for (const [dir, shas] of [
            [`${recipe}/revisions/${e.rrev}`, e.recipe],
            [`${binary}/revisions/${e.prev}`, e.package],
          ]) {
            const list = JSON.parse((await http.send(op, 'GET', `${dir}/files`, { headers: auth })).body);
            const missing = Object.keys(shas).filter((f) => !(f in (list.files ?? {})));
            if (missing.length) http.wrong(op, 'GET', `${dir}/files`, `missing ${missing.join(', ')}: ${JSON.stringify(list)}`);
            for (const [f, sha] of Object.entries(shas)) await download(op, `${dir}/files/${f}`, auth, sha);
          }
        },
      },
      {
        op: 'conan-v2.search',
        weight: 1,
        run: (op, e) => conanSearch(op, conan2.pool, e, 'v2'),
      },
    ],
    remove: async (op, e) => http.send(op, 'DELETE', `${conanBase}/v2/conans/${ref(e)}`, { headers: await conanAuth(op) }),
  };

  // ---- Composer ---------------------------------------------------------------------------
  const composerRepo = `/api/v4/group/${group.id}/-/packages/composer`;
  const composer = {
    pool: new Pool(
      'composer',
      range(NAMES, (i) => `${group.path}/lib-${i}`),
    ),
    async upload(op) {
      const name = this.pool.pickName();
      const version = `1.0.${this.pool.next()}`;
      const zip = composerZip(name);
      const { body, contentType } = multipart([
        { name: 'version', value: version },
        { name: 'file', value: zip, fileName: 'package.zip' },
      ]);
      const headers = { ...priv, 'content-type': contentType };
      await http.send(op, 'POST', `${projectApi}/packages/composer`, { headers, body, expect: [201] });
      return { name, version, sha: sha256(zip), sha1: digest('sha1', zip) };
    },
    reads: [
      {
        op: 'composer.packages',
        weight: 1,
        async run(op, e) {
          const path = `${composerRepo}/packages.json`;
          const doc = JSON.parse((await http.send(op, 'GET', path, { headers: priv })).body);
          if (!doc['metadata-url']) http.wrong(op, 'GET', path, `no metadata-url: ${JSON.stringify(doc).slice(0, 300)}`);
          const available = doc['available-packages'];
          if (!available?.includes(e.name)) http.wrong(op, 'GET', path, `available-packages lacks ${e.name}: ${JSON.stringify(available)}`);
        },
      },
      {
        op: 'composer.install',
        weight: 3,
        /** What `composer install` fetches: the p2 file of the package, then the version's dist zip. */
        async run(op, e) {
          const p2 = `${composerRepo}/p2/${e.name}.json`;
          const doc = await listing(op, composer.pool, e, p2, {
            headers: priv,
            has: (d, x) => (d.packages?.[x.name] ?? []).some((v) => v.version === x.version),
          });
          const v = doc.packages[e.name].find((x) => x.version === e.version);
          if (v.dist?.shasum !== e.sha1) http.wrong(op, 'GET', p2, `dist.shasum ${v.dist?.shasum}, uploaded ${e.sha1}`);
          const url = new URL(v.dist.url);
          await download(op, url.pathname + url.search, priv, e.sha);
        },
      },
    ],
    remove: (op, e) => apiDelete(op, 'composer', e.name, e.version),
  };

  // ---- Go ---------------------------------------------------------------------------------
  const goBase = `${projectApi}/packages/go`;
  const goAuth = { authorization: basic('soak', token) };
  const go = {
    pool: new Pool(
      'go',
      range(NAMES, (i) => `${group.path}.example/lib${i}`),
    ),
    async upload(op) {
      const module = this.pool.pickName();
      const version = `v1.0.${this.pool.next()}`;
      const zip = goModuleZip(module, version);
      await http.send(op, 'PUT', `${goBase}/${module}/@v/${version}.zip`, { headers: priv, body: zip, expect: [201] });
      return { name: module, version, sha: sha256(zip) };
    },
    reads: [
      {
        op: 'go.list',
        weight: 2,
        run: (op, e) =>
          listing(op, go.pool, e, `${goBase}/${e.name}/@v/list`, {
            headers: goAuth,
            has: (lines, x) => lines.includes(x.version),
            parse: (b) => b.split('\n'),
          }),
      },
      {
        op: 'go.download',
        weight: 2,
        /** What `go mod download` fetches: .info, .mod, .zip. */
        async run(op, e) {
          const at = `${goBase}/${e.name}/@v/${e.version}`;
          const info = JSON.parse((await http.send(op, 'GET', `${at}.info`, { headers: goAuth })).body);
          if (info.Version !== e.version) http.wrong(op, 'GET', `${at}.info`, `Version ${info.Version}, uploaded ${e.version}`);
          const mod = (await http.send(op, 'GET', `${at}.mod`, { headers: goAuth })).body.toString();
          if (!mod.startsWith(`module ${e.name}\n`)) http.wrong(op, 'GET', `${at}.mod`, mod.slice(0, 200));
          await download(op, `${at}.zip`, goAuth, e.sha);
        },
      },
    ],
    remove: (op, e) => apiDelete(op, 'go', e.name, e.version),
  };

  return { generic, npm, pypi, maven, nuget, 'conan-v1': conan1, 'conan-v2': conan2, composer, go };
}
