// Placeholder: the nuget format plugin is being written.
export {};
