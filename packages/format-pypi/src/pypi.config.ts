import { ForwardingFormatConfig, IntegerSetting, UpstreamConfig, UpstreamSection } from '@stowage/core';

/** `formats.pypi.upstream`: a simple index (PEP 503/691) whose project pages are at `<url><normalized name>/`. */
export class PypiUpstreamConfig extends UpstreamConfig {
  override url = 'https://pypi.org/simple/';
  /** PyPI's pages link the files on its CDN. */
  override hosts = ['files.pythonhosted.org'];
}

export class PypiFormatConfig extends ForwardingFormatConfig {
  /** GitLab's `pypi_max_file_size`: bytes per distribution file, 0 for no limit (default 3 GiB). */
  override max_file_size = 3 * 1024 ** 3;
  /** Cap on a wheel's METADATA / an sdist's PKG-INFO when extracting it (zip-bomb guard), and on an upstream's `.metadata` file. */
  @IntegerSetting({ min: 1024 }) max_metadata_size = 4 * 1024 ** 2;
  /**
   * Decompressed bytes a `.tar.gz` sdist may expand to: it is read through at upload (every
   * entry checked, PKG-INFO kept), and one that expands further is refused (tar-bomb guard).
   */
  @IntegerSetting({ min: 1024 }) max_sdist_scan_size = 512 * 1024 ** 2;
  /**
   * Ignored, still accepted so that existing configs load: index pages are kept in core's
   * rendered-document cache, bounded in bytes by `packages.rendered_cache_size`.
   */
  @IntegerSetting({ min: 0 }) index_cache_entries = 1000;
  /** Where names nobody holds in scope go when `package_requests_forwarding` is on (GitLab: pypi.org). */
  @UpstreamSection(() => PypiUpstreamConfig) upstream = new PypiUpstreamConfig();
}
