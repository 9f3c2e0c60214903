// Placeholder: the npm format plugin is being written.
export {};
