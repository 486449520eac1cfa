/** netdbg/linux: pure parsers for Linux targets (filled by the Linux targets work). */
export {};
