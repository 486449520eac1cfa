/** netdbg/windows: pure parsers for Windows targets (filled by the Windows targets work). */
export {};
