// Placeholder: the pypi format plugin is being written.
export {};
