import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';

import { TokensService } from '../auth/tokens.service';
import { UsersService } from '../auth/users.service';

export const ROOT_BOOTSTRAP_OPTIONS = Symbol('ROOT_BOOTSTRAP_OPTIONS');

export interface RootBootstrapOptions {
  /** STOWAGE_ROOT_TOKEN: the root user's token, kept in sync on every start (a changed value retires the old one). */
  rootToken?: string;
  /** Where a generated root token is shown, once (never through the logger). */
  announce: (message: string) => void;
}

/**
 * First start: creates the admin user `root`. With STOWAGE_ROOT_TOKEN set, that secret is
 * root's `api` token on every start, and the token an earlier value made is revoked; otherwise
 * a token is generated when root is created and shown once. Unsetting the variable leaves its
 * last token valid (there would be no way in otherwise); root's API-made tokens are root's own.
 */
@Injectable()
export class RootBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger('bootstrap');

  constructor(
    private readonly users: UsersService,
    private readonly tokens: TokensService,
    @Inject(ROOT_BOOTSTRAP_OPTIONS) private readonly opts: RootBootstrapOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    let root = await this.users.findByUsername('root');
    let created = false;
    if (!root) {
      try {
        root = await this.users.create({ username: 'root', name: 'Administrator', is_admin: true });
        created = true;
        this.logger.log('created the admin user root');
      } catch (err) {
        root = await this.users.findByUsername('root'); // another process won the race
        if (!root) throw err;
      }
    }
    if (this.opts.rootToken) {
      await this.tokens.syncRootEnvToken(root.id, this.opts.rootToken);
    } else if (created) {
      const { secret } = await this.tokens.create({ kind: 'personal', name: 'root', scopes: ['api'], userId: root.id });
      this.opts.announce(
        `\nStowage created the admin user "root". Its API token, shown only this once:\n\n    ${secret}\n\n` +
          'Keep it safe. To choose the token yourself, set STOWAGE_ROOT_TOKEN before the first start.\n\n',
      );
    }
  }
}
