// A format that proxies an upstream through core's remote machinery and nothing else, so core's
// remote registries are tested at the HTTP level without any real format (core tests may not
// depend on format packages). The upstream is a tree of files (served by python3 -m http.server):
//   <name>/index.json   {"files": [{"name": "a.bin", "sha256": "<hex>", "url"?: "<href>"}]}
//   <name>/<file>       the file (at `url`, relative to the index, when given)
// Stowage serves, at project, group and instance scope:
//   …/fixture/<name>/index.json    {"source": "upstream", "revision", "files": [{name, sha256}]}
//                                  or {"source": "local", "versions"} for a name held in scope
//   …/fixture/<name>/files/<file>  the file, fetched once, verified and cached
import { ConfigurableModuleBuilder, Controller, Get, Inject, Injectable, Module, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

import {
  CurrentScope,
  defineFormatPlugin,
  type FormatModuleOptions,
  ForwardingFormatConfig,
  httpErrors,
  PackageAccess,
  type PackageScope,
  PackageService,
  RemoteDocuments,
  RemoteFiles,
  RouteScope,
  STALE_WARNING,
  type Upstream,
  UpstreamConfig,
  UpstreamError,
  Upstreams,
  UpstreamSection,
} from '../src';

export const FIXTURE = 'fixture';

export class FixtureUpstreamConfig extends UpstreamConfig {
  // Nothing listens there: every test names its own upstream.
  override url = 'http://127.0.0.1:9/';
}

export class FixtureFormatConfig extends ForwardingFormatConfig {
  @UpstreamSection(() => FixtureUpstreamConfig) upstream = new FixtureUpstreamConfig();
}

const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: FIXTURE_OPTIONS } = new ConfigurableModuleBuilder<
  FormatModuleOptions<FixtureFormatConfig>
>().build();

interface IndexEntry {
  name: string;
  sha256: string;
  url?: string;
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;

function checkName(name: string): string {
  if (!NAME.test(name)) throw httpErrors.badRequest('invalid package name');
  return name;
}

/** The upstream's index, or an UpstreamError when it is not one (never a 500). */
function parseIndex(body: Buffer): IndexEntry[] {
  try {
    const files = (JSON.parse(body.toString('utf8')) as { files?: unknown }).files;
    if (!Array.isArray(files)) throw new Error('no files');
    return files.filter(
      (f): f is IndexEntry => typeof f?.name === 'string' && typeof f.sha256 === 'string' && /^[0-9a-f]{64}$/i.test(f.sha256),
    );
  } catch {
    throw new UpstreamError('invalid', 'answered an index that is not one');
  }
}

@Injectable()
export class FixtureReads {
  constructor(
    private readonly packages: PackageService,
    private readonly upstreams: Upstreams,
    private readonly documents: RemoteDocuments,
    private readonly files: RemoteFiles,
    @Inject(FIXTURE_OPTIONS) private readonly options: FormatModuleOptions<FixtureFormatConfig>,
  ) {}

  private async upstream(scope: PackageScope, name: string): Promise<Upstream> {
    const upstream = await this.upstreams.forName(scope, FIXTURE, name);
    if (!upstream) throw httpErrors.notFound('Package');
    return upstream;
  }

  private async index(upstream: Upstream, name: string) {
    const doc = await this.documents.get(upstream, upstream.http.url(`${name}/index.json`), { name, accept: 'application/json' });
    if (!doc.found) throw httpErrors.notFound('Package');
    return { doc, entries: parseIndex(await doc.body()) };
  }

  async sendIndex(scope: PackageScope, name: string, reply: FastifyReply) {
    const local = await this.packages.scopeVersions(scope, FIXTURE, name);
    if (local.length) return { source: 'local', versions: local.map((p) => p.version) };
    const upstream = await this.upstream(scope, name);
    if (!upstream.caches) throw upstream.redirect(`${name}/index.json`);
    const { doc, entries } = await this.index(upstream, name);
    if (doc.stale) reply.headers(STALE_WARNING);
    return {
      source: 'upstream',
      revision: `${doc.id}.${doc.revision}`,
      files: entries.map((e) => ({ name: e.name, sha256: e.sha256 })),
    };
  }

  async sendFile(scope: PackageScope, name: string, fileName: string, request: FastifyRequest, reply: FastifyReply) {
    // A name held in scope is answered locally only, and this fixture keeps no local files.
    if (await this.packages.nameHeld(scope, FIXTURE, name)) throw httpErrors.notFound('Package file');
    const upstream = await this.upstream(scope, name);
    if (!upstream.caches) throw upstream.redirect(`${name}/${fileName}`);
    const { doc, entries } = await this.index(upstream, name);
    const entry = entries.find((e) => e.name === fileName);
    if (!entry) throw httpErrors.notFound('Package file');
    const url = upstream.http.link(entry.url ?? encodeURIComponent(entry.name), doc.url);
    if (!url) throw new UpstreamError('host', `links ${fileName} off its configured hosts`);
    return this.files.send(request, reply, {
      upstream,
      url,
      digest: { algorithm: 'sha256', hex: entry.sha256 },
      name,
      fileName,
      maxSize: this.options.config.max_file_size,
    });
  }
}

type Params = { name: string; file: string };

@Injectable()
abstract class FixtureRoutes {
  constructor(private readonly reads: FixtureReads) {}

  @Get(':name/index.json')
  @PackageAccess('read')
  index(@CurrentScope() scope: PackageScope, @Param() params: Params, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.reads.sendIndex(scope, checkName(params.name), reply);
  }

  @Get(':name/files/:file')
  @PackageAccess('read')
  file(@CurrentScope() scope: PackageScope, @Param() params: Params, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.reads.sendFile(scope, checkName(params.name), params.file, request, reply);
  }
}

@Controller('api/v4/projects/:id/packages/fixture')
export class FixtureProjectController extends FixtureRoutes {}

@Controller('api/v4/groups/:id/-/packages/fixture')
@RouteScope('group')
export class FixtureGroupController extends FixtureRoutes {}

@Controller('api/v4/packages/fixture')
@RouteScope('instance')
export class FixtureInstanceController extends FixtureRoutes {}

@Module({ controllers: [FixtureProjectController, FixtureGroupController, FixtureInstanceController], providers: [FixtureReads] })
class FixtureFormatModule extends ConfigurableModuleClass {}

export const fixtureFormat = defineFormatPlugin({ name: FIXTURE, module: FixtureFormatModule, config: FixtureFormatConfig });

/** Where the fixture serves at each scope: `fixturePath({ project: 3 }, 'a/index.json')`. */
export function fixturePath(at: { project: number } | { group: number } | 'instance', rest: string): string {
  if (at === 'instance') return `/api/v4/packages/fixture/${rest}`;
  return 'project' in at
    ? `/api/v4/projects/${at.project}/packages/fixture/${rest}`
    : `/api/v4/groups/${at.group}/-/packages/fixture/${rest}`;
}
