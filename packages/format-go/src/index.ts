// Placeholder: the go format plugin is being written.
export {};
