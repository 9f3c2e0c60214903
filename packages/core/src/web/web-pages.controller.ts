import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DataSource } from 'typeorm';

import { AccessService } from '../auth/access.service';
import { AuthService } from '../auth/auth.service';
import { PackageAccessGuard } from '../auth/package-access.guard';
import { ANONYMOUS, type Principal } from '../auth/principal';
import { StowageConfig } from '../config';
import { httpErrors } from '../http/http-error';
import { PackageService } from '../packages/package.service';
import { PackageFile } from '../packages/package-file.entity';
import { LIVE_STATUSES } from '../packages/package-status';
import { FormatRegistry } from '../plugin/format-registry';
import { ProjectsService } from '../projects/projects.service';
import { sendRendered } from '../rendering/send-rendered';
import { FileStorage } from '../storage/file-storage.service';
import { WebAssets } from './web-assets';
import { type WebRoute, webRoute } from './web-routes';

/** Nothing on a page may load or run but the UI's own files: a README or a name cannot inject. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
};

/**
 * The web UI at GitLab's paths: the app's page for every UI route (404 when it names a project
 * or group the viewer may not read), its static files, and package file downloads by id. Every
 * other GET that no route took is still the API's 404.
 */
@Controller()
export class WebPagesController {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly assets: WebAssets,
    private readonly auth: AuthService,
    private readonly access: AccessService,
    private readonly projects: ProjectsService,
    private readonly packages: PackageService,
    private readonly storage: FileStorage,
    private readonly packageAccess: PackageAccessGuard,
    private readonly formats: FormatRegistry,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  @Get('-/ui/assets/:name')
  asset(@Param('name') name: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const asset = this.assets.asset(name);
    if (!asset) throw httpErrors.notFound();
    // Vite names every asset by its content hash: a name never changes its bytes.
    return sendRendered(request, reply, asset.doc, {
      contentType: asset.contentType,
      cacheControl: 'public, max-age=31536000, immutable',
      headers: { 'x-content-type-options': 'nosniff' },
    });
  }

  @Get()
  home(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.page(request, reply, 200);
  }

  @Get('*')
  async route(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const path = request.url.split('?')[0];
    const route = webRoute(path);
    if (!route) throw httpErrors.notFound();
    if (route.kind === 'file') return this.download(route, request, reply);
    return this.page(request, reply, (await this.shows(route, await this.viewer(request))) ? 200 : 404);
  }

  private page(request: FastifyRequest, reply: FastifyReply, status: number) {
    const index = this.assets.index;
    if (!index) throw httpErrors.serviceUnavailable('The web UI is not built: run `pnpm build`');
    if (status === 200) return sendRendered(request, reply, index.doc, { contentType: index.contentType, headers: PAGE_HEADERS });
    // The same bytes as the page, so never a 304: a browser holding the page from when it could
    // read it would show it again.
    return reply
      .status(status)
      .headers({ ...PAGE_HEADERS, 'content-type': index.contentType, 'cache-control': 'no-store' })
      .send(index.doc.body);
  }

  /** Who is looking: a bad or expired cookie is an anonymous visitor here, not an error page. */
  private async viewer(request: FastifyRequest): Promise<Principal> {
    const auth = await this.auth.authenticate(request, { session: true });
    return auth.rejected ? ANONYMOUS : auth.principal;
  }

  private async shows(route: WebRoute, viewer: Principal): Promise<boolean> {
    if (route.kind === 'page') return true;
    if (route.kind === 'group') {
      const group = await this.projects.findGroup(route.groupPath);
      return !!group && (await this.access.groupVisible(viewer, group));
    }
    if (route.kind !== 'project') return false;
    const ctx = await this.projects.findProject(route.projectPath);
    if (!ctx || !(await this.access.projectPermissions(viewer, ctx)).visible) return false;
    if (route.packageId === undefined) return true;
    const pkg = await this.packages.findPackageById(ctx.project.id, route.packageId);
    return !!pkg && pkg.status !== 'pending_destruction';
  }

  /** As a format's download: the same checks (PackageAccessGuard), and the format must be enabled. */
  private async download(route: Extract<WebRoute, { kind: 'file' }>, request: FastifyRequest, reply: FastifyReply) {
    if (!this.config.packages.enabled) throw httpErrors.notFound();
    const auth = await this.auth.authenticate(request, { session: true });
    if (auth.rejected) throw httpErrors.unauthorized();
    const { project } = await this.packageAccess.projectAccess(auth, route.projectPath, 'read', { challenge: false });
    const file = await this.ds.getRepository(PackageFile).findOneBy({ id: route.fileId });
    const pkg = file ? await this.packages.findPackageById(project.project.id, file.package_id) : null;
    if (!file || !pkg || !LIVE_STATUSES.includes(pkg.status) || !this.formats.has(pkg.package_type)) {
      throw httpErrors.notFound('Package file');
    }
    // A page showing the file (a README's <img>) is not a download: it would keep a version "used" for cleanup rules.
    const dest = request.headers['sec-fetch-dest'];
    if (dest === undefined || dest === 'document' || dest === 'empty') this.packages.markDownloaded(pkg, request);
    return this.storage.send(request, reply, file, { disposition: 'attachment', headers: { 'x-content-type-options': 'nosniff' } });
  }
}
