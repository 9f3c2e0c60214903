// Placeholder: the composer format plugin is being written.
export {};
