/** The directory of sb_napi.h. */
export declare const include: string;
/** Loads `build/Release/<name>.node` of the package `moduleUrl` (an import.meta.url in its src/ or dist/) belongs to; null when it was not built. */
export declare function loadAddon(moduleUrl: string, name: string): unknown;
