// Placeholder: the S3 blob store is being written.
export {};
