/** C source of UNP's checkopts over these options (see checkopts-c.mjs). */
export function checkoptsSource(options: readonly { name: string; levelName: string; type: string; perFamily?: boolean }[]): string;
