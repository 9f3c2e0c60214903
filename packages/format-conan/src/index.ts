// Placeholder: the conan format plugin is being written.
export {};
