export {
  type CachedRemoteFile,
  EVICT_REMOTE_FILES_JOB,
  type EvictionPolicy,
  RemoteCache,
  type RemoteFilter,
  type Removed,
} from './remote-cache';
export { type RemoteDocument, type RemoteDocumentOptions, RemoteDocuments, STALE_WARNING } from './remote-documents';
export { type DigestAlgorithm, type RemoteFile, RemoteFiles } from './remote-files';
export { type ForwardingSetting, RequestForwarding } from './request-forwarding';
export { ForwardingFormatConfig, isForwardingConfig, UpstreamConfig, type UpstreamMode, UpstreamSection } from './upstream-config';
export { UpstreamError, type UpstreamFailure, UpstreamHttp, type UpstreamResponse } from './upstream-http';
export { Upstream, Upstreams } from './upstreams';
