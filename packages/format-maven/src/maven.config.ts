import { ForwardingFormatConfig, IntegerSetting, UpstreamConfig, UpstreamSection } from '@stowage/core';

/** Maven Central by default; any Maven 2 layout repository (Nexus, Artifactory, another Stowage) works. */
export class MavenUpstreamConfig extends UpstreamConfig {
  override url = 'https://repo.maven.apache.org/maven2/';
}

export class MavenFormatConfig extends ForwardingFormatConfig {
  /** GitLab's `maven_max_file_size`: bytes per file, 0 for no limit (default 3 GiB). */
  override max_file_size = 3 * 1024 ** 3;
  /** Largest maven-metadata.xml or POM read back for validation, in bytes. */
  @IntegerSetting({ min: 1024 }) max_metadata_size = 10 * 1024 ** 2;
  /** Where names nobody in scope holds are resolved (GitLab's `maven_package_requests_forwarding`). */
  @UpstreamSection(() => MavenUpstreamConfig) upstream = new MavenUpstreamConfig();
}
