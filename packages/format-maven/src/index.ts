// Placeholder: the maven format plugin is being written.
export {};
