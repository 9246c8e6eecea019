/** The path of one of the manager bench's own scripts (this directory), to run as a harness Child. */
export const benchScript = (file: string): string => new URL(`./${file}`, import.meta.url).pathname;
